using System.CommandLine;
using Bat.Data;
using Bat.Experiments;
using Bat.Frontends;
using Bat.Model;
using Bat.Pretraining;

namespace Bat.Cli.Commands;

/// <summary>`bat pretrain` (bootstrap pre-training of EAT/BAT variants) and `bat bench pretrain`.</summary>
public static class PretrainCommands
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "Model and run size: smoke|tiny|small|base.", DefaultValueFactory = _ => Preset.Tiny.Name };
        var manifest = new Option<string>("--manifest") { Description = "Manifest CSV; its train split is used (labels ignored).", Required = true };
        var output = new Option<string>("--out") { Description = "Run folder (config.json, metrics.csv, checkpoints/).", Required = true };
        var variant = new Option<string>("--variant") { Description = $"Starting point: {string.Join("|", PretrainVariant.Trainable.Select(v => v.Name))} (the options below override it).", DefaultValueFactory = _ => "bat" };
        var steps = new Option<int?>("--steps") { Description = "Optimiser updates (default: the preset's plan)." };
        var batch = new Option<int?>("--batch") { Description = "Clips per update." };
        var clones = new Option<int?>("--clones") { Description = "Masked clones per clip." };
        var decoder = new Option<DecoderKind?>("--decoder") { Description = "cnn (EAT) | vit (BAT)." };
        var frontend = new Option<string?>("--frontend") { Description = "bat | kaldi | kaldi-beats." };
        var targets = new Option<TeacherTargetKind?>("--targets") { Description = "ffn (EAT) | eob (BAT) | pixels (no teacher: the patches' normalised pixels, a research lever)." };
        var gated = new Option<bool?>("--gated") { Description = "Gated attention (BAT): true|false." };
        var weighting = new Option<UtteranceWeighting?>("--utterance-weighting") { Description = "fairseq (EAT) | equal (BAT)." };
        var seed = new Option<long>("--seed") { Description = "Seed of the initial weights, data order, masks and noise.", DefaultValueFactory = _ => 0 };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its newest good checkpoint." };
        var every = new Option<int?>("--checkpoint-every") { Description = "Steps between checkpoints (0: only at the end and on Ctrl-C)." };
        var cache = new Option<string?>("--cache") { Description = "Folder to cache features in between runs." };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (default: the preset's plan)." };
        var warmup = new Option<int?>("--warmup") { Description = "Warm-up updates (default: the preset's plan)." };
        var emaStart = new Option<double?>("--ema-start") { Description = "EMA decay at the first update." };
        var emaEnd = new Option<double?>("--ema-end") { Description = "EMA decay after --ema-anneal updates." };
        var emaAnneal = new Option<int?>("--ema-anneal") { Description = "Updates over which the EMA decay goes from start to end." };
        var positionScale = new Option<double?>("--position-scale") { Description = "Factor on the fixed sin-cos position table (papers: 1)." };
        var centre = new Option<bool?>("--centre-targets") { Description = "Subtract the batch's mean target per patch position: true|false (papers: false)." };
        var utteranceTarget = new Option<UtteranceTargetKind?>("--utterance-target") { Description = "What the CLS regresses: target-mean (papers) | pooled (the teacher's pooled output, centred over the batch) | spectral (the clip's per-band log-mel mean and std, z-scored with the training clips' statistics)." };
        var frameWeight = new Option<double?>("--frame-weight") { Description = "Weight of the frame (masked prediction) term (papers: 1; 0 drops it, e.g. to measure a spread term alone)." };
        var utteranceLambda = new Option<double?>("--utterance-lambda") { Description = "Weight of the utterance (CLS) term (papers: 1; 0 trains the frame term alone)." };
        var spreadWeight = new Option<double?>("--spread-weight") { Description = "Weight of the VICReg-style spread term on the student's CLS and mean token (papers: 0; a lever against dimensional collapse)." };
        var spreadNormalised = new Option<bool?>("--spread-normalised") { Description = "The spread term reads the CLS and mean token after a LayerNorm without gain, as LP's head does: true|false (default false; a lever beside --spread-weight)." };
        var tokenSpreadWeight = new Option<double?>("--token-spread-weight") { Description = "Weight of the spread term on the student's visible tokens, each less its position's mean over the batch (papers: 0; a lever for what CGP reads)." };
        var cloneMix = new Option<double?>("--clone-mix") { Description = "Largest weight of another clip of the batch mixed into each student clone's view, 0 to 1 (papers: 0; a lever: the teacher keeps the clean clip)." };
        var cloneInvariance = new Option<double?>("--clone-invariance") { Description = "Weight of the invariance term: each clone's CLS against its clip's mean CLS (papers: 0; a lever beside --spread-weight and --clone-mix)." };
        var keepRatio = new Option<double?>("--keep-ratio") { Description = "Share of the patches each student clone sees, 0 to 1 (papers: 0.2, i.e. 80 % masked)." };
        var melBins = new Option<int?>("--mel-bins") { Description = "Mel bins of the input (default: the preset's encoder)." };
        var frames = new Option<int?>("--frames") { Description = "Frames per training clip (default: the preset's encoder)." };
        var clipFrames = new Option<int?>("--clip-frames") { Description = "Frames kept of each training clip; more than --frames: each draw takes a random window of --frames from them (default 0: the clip's first --frames; a lever for clips longer than the input)." };
        var linearInit = new Option<LinearInit?>("--init") { Description = "How Linear weights start: bert (N(0, 0.02), EAT's code; the default) | xavier (xavier_uniform, BAT's official code)." };
        var command = new Command("pretrain", "Bootstrap pre-training (EAT -> BAT ablation variants) on a manifest's train split.")
        {
            preset, manifest, output, variant, steps, batch, clones, decoder, frontend, targets, gated, weighting, seed, resume, every, cache,
            lr, warmup, emaStart, emaEnd, emaAnneal, positionScale, centre, utteranceTarget, frameWeight, utteranceLambda, spreadWeight, spreadNormalised, tokenSpreadWeight, cloneMix, cloneInvariance, keepRatio, melBins, frames, clipFrames, linearInit,
        };
        command.SetGuardedAction(parse =>
        {
            var chosen = Preset.Named(parse.GetValue(preset)!);
            var plan = chosen.Pretraining;
            var named = PretrainVariant.Named(parse.GetValue(variant)!);
            var v = named with
            {
                Frontend = parse.GetValue(frontend) ?? named.Frontend,
                Targets = parse.GetValue(targets) ?? named.Targets,
                Gated = parse.GetValue(gated) ?? named.Gated,
                Decoder = parse.GetValue(decoder) ?? named.Decoder,
                UtteranceWeighting = parse.GetValue(weighting) ?? named.UtteranceWeighting,
                SpreadWeight = parse.GetValue(spreadWeight) ?? named.SpreadWeight,
            };
            if (!FrontendConfig.Kinds.Contains(v.Frontend))
                throw new BatException("--frontend", $"unknown frontend '{v.Frontend}' (expected {string.Join("|", FrontendConfig.Kinds)})");
            var encoder = chosen.WithInput(parse.GetValue(melBins), parse.GetValue(frames)).Encoder with
            {
                PositionScale = parse.GetValue(positionScale) ?? chosen.Encoder.PositionScale,
            };
            string manifestPath = parse.GetValue(manifest)!, runDir = parse.GetValue(output)!;
            Preflight.EnsureWritable(runDir);
            if (parse.GetValue(cache) is { } cacheDir) Preflight.EnsureWritable(cacheDir);
            bool isResume = parse.GetValue(resume);
            // A resumed run keeps the frontend (and its measured constants) it started with.
            var savedConfig = isResume ? PretrainRun.SavedConfig(runDir) : null;
            var frontendConfig = savedConfig?.Frontend.Kind == v.Frontend
                ? savedConfig.Frontend
                : PretrainData.FrontendFor(v.Frontend, encoder.MelBins, encoder.Frames, manifestPath);
            var planned = v.Config(chosen, frontendConfig, parse.GetValue(seed));
            var config = planned with
            {
                Encoder = encoder with { Gated = v.Gated },
                LearningRate = parse.GetValue(lr) ?? planned.LearningRate,
                WarmupSteps = parse.GetValue(warmup) ?? planned.WarmupSteps,
                EmaStart = parse.GetValue(emaStart) ?? planned.EmaStart,
                EmaEnd = parse.GetValue(emaEnd) ?? planned.EmaEnd,
                EmaAnnealSteps = parse.GetValue(emaAnneal) ?? planned.EmaAnnealSteps,
                CentreTargets = parse.GetValue(centre) ?? planned.CentreTargets,
                UtteranceTarget = parse.GetValue(utteranceTarget) ?? planned.UtteranceTarget,
                FrameWeight = parse.GetValue(frameWeight) ?? planned.FrameWeight,
                UtteranceLambda = parse.GetValue(utteranceLambda) ?? planned.UtteranceLambda,
                SpreadNormalised = parse.GetValue(spreadNormalised) ?? planned.SpreadNormalised,
                TokenSpreadWeight = parse.GetValue(tokenSpreadWeight) ?? planned.TokenSpreadWeight,
                CloneMix = parse.GetValue(cloneMix) ?? planned.CloneMix,
                CloneInvariance = parse.GetValue(cloneInvariance) ?? planned.CloneInvariance,
                KeepRatio = parse.GetValue(keepRatio) ?? planned.KeepRatio,
                ClipFrames = parse.GetValue(clipFrames) ?? planned.ClipFrames,
                Init = parse.GetValue(linearInit) ?? planned.Init,
                Variant = v == named ? named.Name : "custom", // an overridden variant is no longer the named one
                TrainedOn = Manifest.Fingerprint(manifestPath),
                Steps = parse.GetValue(steps) ?? plan.Steps,
                Batch = parse.GetValue(batch) ?? plan.Batch,
                Clones = parse.GetValue(clones) ?? plan.Clones,
                CheckpointEvery = parse.GetValue(every) ?? plan.CheckpointEvery,
            };
            config.Validate();
            using var data = PretrainData.Load(manifestPath, config.Frontend, config.FramesPerClip(), parse.GetValue(cache));
            Console.Error.WriteLine($"pretrain {config.Variant}: {data.Count} clips, {config.Steps} steps of {config.Batch} clips x {config.Clones} clones, " +
                                    $"frontend {config.Frontend.Kind}, targets {Json.Name(config.Targets)}, gated {config.Encoder.Gated}, decoder {Json.Name(config.Decoder.Kind)}");

            // Ctrl-C finishes the current step, saves a checkpoint and exits; a second Ctrl-C kills the process.
            // SIGTERM (`kill`, a job scheduler's time limit) does the same: a background job started with `&` ignores
            // SIGINT, so without this a stopped run would lose everything since its last periodic checkpoint.
            // Each handler returns whether it kept the process alive: true the first time, false (the default) after.
            using var cancel = new CancellationTokenSource();
            bool StopAfterThisStep(string message)
            {
                if (cancel.IsCancellationRequested) return false;
                cancel.Cancel();
                Console.Error.WriteLine(message);
                return true;
            }
            ConsoleCancelEventHandler onCancel = (_, e) =>
                e.Cancel = StopAfterThisStep("\ninterrupted: saving a checkpoint after this step (Ctrl-C again to abort)");
            using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
                context.Cancel = StopAfterThisStep("\nterminated: saving a checkpoint after this step (SIGTERM again to abort)"));
            Console.CancelKeyPress += onCancel;
            try
            {
                var summary = PretrainRun.Execute(config, data, runDir, isResume, cancel.Token);
                Console.WriteLine($"{(summary.Completed ? "done" : "stopped")}: step {summary.Step}, loss {summary.FinalLoss:F4}, " +
                                  $"{summary.ClipsPerSecond:F1} clips/s, run {Path.GetFullPath(runDir)}");
                return summary.Completed ? 0 : 130;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return command;
    }

    /// <summary>`bat bench pretrain`: registered under `bat bench`.</summary>
    public static Command Bench()
    {
        var preset = new Option<string>("--preset") { Description = "Model size: tiny|small|base.", DefaultValueFactory = _ => Preset.Tiny.Name };
        var steps = new Option<int>("--steps") { Description = "Timed steps (after 3 warm-up steps).", DefaultValueFactory = _ => 100 };
        var variant = new Option<string>("--variant") { Description = $"Ablation variant ({string.Join(", ", PretrainVariant.Trainable.Select(v => v.Name))}).", DefaultValueFactory = _ => "bat" };
        var batch = new Option<int?>("--batch") { Description = "Clips per step (default: the preset's plan)." };
        var clones = new Option<int?>("--clones") { Description = "Masked clones per clip (default: the preset's plan)." };
        var clips = new Option<int?>("--clips") { Description = "Stream this many random clips from disk, as pre-training reads a dataset (default: a few batches in memory)." };
        var command = new Command("pretrain", "Pre-training step speed, time split and RSS on random features.")
        {
            preset, steps, variant, batch, clones, clips,
        };
        command.SetGuardedAction(parse =>
        {
            var chosen = Preset.Named(parse.GetValue(preset)!);
            var v = PretrainVariant.Named(parse.GetValue(variant)!);
            var encoder = chosen.Encoder;
            // Random features stand in for audio, so the frontend only has to match in shape.
            var config = v.Config(chosen, new FrontendConfig(v.Frontend, encoder.MelBins, encoder.Frames));
            config = config with { Batch = parse.GetValue(batch) ?? config.Batch, Clones = parse.GetValue(clones) ?? config.Clones };
            int n = parse.GetValue(steps);
            if (n < 1) throw new BatException("--steps", "must be at least 1");
            int? onDisk = parse.GetValue(clips);
            if (onDisk < 1) throw new BatException("--clips", "must be at least 1");
            Console.WriteLine($"bench pretrain: preset {chosen.Name}, variant {config.Variant}, batch {config.Batch} x {config.Clones} clones, " +
                              $"{n} steps, {TorchSharp.torch.get_num_threads()} threads, device {Devices.Default}, " +
                              (onDisk is { } c ? $"{c} clips streamed from disk ({c * (long)encoder.Frames * encoder.MelBins * 4 / 1048576.0:F0} MB)" : "clips in memory"));
            PretrainBench.Result r;
            using (var progress = new ConsoleProgress("bench", n)) r = PretrainBench.Run(config, n, progress: s => progress.Report(s), clips: onDisk);
            Console.WriteLine($"steps/s      {r.StepsPerSecond:F2}  ({1000 / r.StepsPerSecond:F0} ms/step)");
            Console.WriteLine($"clips/s      {r.ClipsPerSecond:F1}");
            Console.WriteLine($"peak RSS     {r.PeakRssMb:F0} MB");
            foreach (long at in new long[] { 1, 100, 500, 1000, n }.Distinct().Where(s => s <= n))
                Console.WriteLine($"RSS step {at,-5} {r.Rss[(int)at - 1].RssMb:F0} MB");
            if (n >= 500)
                Console.WriteLine($"RSS step 500 / step 100: {r.Rss[499].RssMb / r.Rss[99].RssMb:F3}");
            Console.WriteLine("time split (share of the step):");
            foreach (var (phase, seconds) in r.Timings.Phases)
                Console.WriteLine($"  {phase,-16} {seconds / r.Timings.Total,6:P1}  {1000 * seconds / n,7:F1} ms");
            return 0;
        });
        return command;
    }
}
