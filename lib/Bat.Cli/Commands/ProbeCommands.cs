using System.CommandLine;
using System.Globalization;
using Bat.Experiments;
using Bat.Frontends;
using Bat.Probing;
using Bat.Training;

namespace Bat.Cli.Commands;

/// <summary>
/// `bat embed` (frozen features of a checkpoint, cached once per split), `bat probe` (train a probe on them,
/// or fine-tune) and `bat bench probe` (what the cache saves).
/// </summary>
public static class ProbeCommands
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Pre-training run folder or checkpoints/step-*.pt file.", Required = true };
        var manifest = new Option<string>("--manifest") { Description = "Manifest CSV (with train, valid and test splits).", Required = true };
        var probe = new Option<string>("--probe") { Description = $"Probe: {string.Join("|", ProbeCatalog.All)}.", DefaultValueFactory = _ => "cgp" };
        var preset = new Option<string>("--preset") { Description = "Scale of the official recipe: smoke|tiny|small|base (base = the official schedules; the others shorten them, see below).", DefaultValueFactory = _ => Preset.Tiny.Name };
        var prototypes = new Option<int?>("--prototypes") { Description = "Prototypes K (cgp, cgp-nocls, pb; default by preset)." };
        var steps = new Option<int?>("--steps") { Description = "Training steps (default: the task's recipe)." };
        var batch = new Option<int?>("--batch") { Description = "Batch size (default: the task's recipe)." };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (default: the task's recipe; fine-tuning: the preset's scale)." };
        var mixup = new Option<double?>("--mixup") { Description = "Fine-tuning only: chance of mixup per batch, 0 to 1 (default: the task's recipe)." };
        var layerDecay = new Option<double?>("--layer-decay") { Description = "Fine-tuning only: layer-wise lr decay, 0 to 1 (block i of depth d learns at decay^(d - i) of the lr, the head at the full lr; 0 trains the head alone on the frozen encoder; default: the task's recipe, 0.75)." };
        var dropPath = new Option<double?>("--drop-path") { Description = "Fine-tuning only: drop path of the last block, 0 to 1 (linear over the blocks; default: the task's recipe, 0.1, 0 at the smoke and tiny presets)." };
        var augment = new Option<bool?>("--augment") { Description = "Fine-tuning only: true|false turns the official SpecAugment, colour noise and time roll on or off (mixup has --mixup; default: the task's recipe, off at the smoke and tiny presets)." };
        var folds = new Option<bool>("--folds") { Description = "Cross-validate over the manifest's folds (ESC-50 layout: a fold on every row): train on the other folds, test on each, report each fold, the mean and the std (the official ESC-50 report)." };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var cache = new Option<string?>("--cache") { Description = "Embedding cache folder: used when it matches, filled when empty (default: a temporary folder)." };
        var output = new Option<string?>("--out") { Description = "Results CSV to append rows to (shared schema)." };
        var experiment = new Option<string>("--experiment") { Description = "Experiment name in the results.", DefaultValueFactory = _ => "probe" };
        var model = new Option<string?>("--model") { Description = "Model name in the results (default: the run folder's name, with -teacher for --weights teacher)." };
        var weights = WeightsOption();
        var command = new Command("probe", "Train a probe on a checkpoint's frozen features (or fine-tune it) and report test metrics.\n\n" + RecipeHelp())
        {
            checkpoint, manifest, probe, preset, prototypes, steps, batch, lr, mixup, layerDecay, dropPath, augment, folds, seed, cache, output, experiment, model, weights,
        };
        command.SetGuardedAction(parse =>
        {
            string probeName = parse.GetValue(probe)!, presetName = parse.GetValue(preset)!;
            if (!ProbeCatalog.All.Contains(probeName)) throw new BatException("--probe", $"unknown probe '{probeName}' (one of {string.Join("|", ProbeCatalog.All)})");
            var chosen = Preset.Named(presetName);
            int k = parse.GetValue(prototypes) ?? chosen.Prototypes;
            if (k < 1) throw new BatException("--prototypes", "must be at least 1");
            int runSeed = parse.GetValue(seed);
            string checkpointPath = parse.GetValue(checkpoint)!, manifestPath = parse.GetValue(manifest)!;
            // Outputs are checked before the embedding and training, not after them.
            CheckResultsCsv(parse.GetValue(output));
            if (parse.GetValue(cache) is { } cacheFolder) Preflight.EnsureWritable(cacheFolder);
            var source = CheckpointSource.Resolve(checkpointPath, parse.GetValue(weights));
            string modelName = parse.GetValue(model)
                               ?? Path.GetFileName(source.RunDir.TrimEnd('/')) + (source.WeightsMark is { } mark ? "-" + mark : "");
            var recipe = chosen.RecipeFor(manifestPath, source, runSeed);
            if (recipe.Family == RecipeFamily.Dcase2016Task2 && !ProbeCatalog.FrameWise.Contains(probeName))
                throw new BatException("--probe", $"'{probeName}' on the sound event detection task {recipe.Task}: event tasks take the frame-wise probes {string.Join("|", ProbeCatalog.FrameWise)}");
            bool crossValidate = parse.GetValue(folds);
            if (crossValidate)
            {
                if (recipe.Folds.Count == 0)
                    throw new BatException(manifestPath, "--folds needs a fold (1, 2, ...) on every row and at least two folds (the ESC-50 layout of `bat data manifest esc50`)");
                recipe = recipe.ForFolds();
            }
            var probeConfig = recipe.ProbingFor(probeName);
            var fineConfig = recipe.FineTuning;
            if (parse.GetValue(steps) is { } s) (probeConfig, fineConfig) = (probeConfig.WithSteps(s), fineConfig.WithSteps(s));
            if (parse.GetValue(batch) is { } b) (probeConfig, fineConfig) = (probeConfig with { BatchSize = b }, fineConfig with { BatchSize = b });
            if (parse.GetValue(lr) is { } rate)
            {
                if (!(rate > 0) || double.IsInfinity(rate)) throw new BatException("--lr", $"must be a positive number, got {rate}");
                (probeConfig, fineConfig) = (probeConfig with { LearningRate = rate }, fineConfig with { LearningRate = rate });
            }
            if (parse.GetValue(mixup) is { } chance)
            {
                FineTuneOnly("--mixup", probeName);
                if (!(chance >= 0 && chance <= 1)) throw new BatException("--mixup", $"must be a chance from 0 to 1, got {chance}");
                fineConfig = fineConfig with { MixupProbability = chance };
            }
            if (parse.GetValue(layerDecay) is { } decay)
            {
                FineTuneOnly("--layer-decay", probeName);
                if (!(decay >= 0 && decay <= 1)) throw new BatException("--layer-decay", $"must be from 0 to 1, got {decay}");
                fineConfig = fineConfig with { LayerDecay = decay };
            }
            if (parse.GetValue(dropPath) is { } drop)
            {
                FineTuneOnly("--drop-path", probeName);
                if (!(drop >= 0 && drop < 1)) throw new BatException("--drop-path", $"must be from 0 to below 1, got {drop}");
                fineConfig = fineConfig with { DropPath = drop };
            }
            if (parse.GetValue(augment) is { } augmenting)
            {
                FineTuneOnly("--augment", probeName);
                fineConfig = augmenting ? fineConfig.WithAugmentationOf(TaskRecipe.OfficialFineTuning(recipe.Family)) : fineConfig.WithoutAugmentation();
            }
            foreach (var (what, value) in recipe.Describe(source.Encoder)) Console.WriteLine($"recipe {what}: {value}");
            // What this run trains with, after the options above.
            Console.WriteLine(probeName == ProbeCatalog.FineTune
                ? FormattableString.Invariant($"schedule: {fineConfig.Steps} steps x batch {fineConfig.BatchSize}, warm-up {fineConfig.WarmupSteps}, lr {fineConfig.LearningRate:G3}, mixup {fineConfig.MixupProbability:G3}, layer decay {fineConfig.LayerDecay:G3}, drop path {fineConfig.DropPath:G3}, augmentation {(fineConfig.Augments ? "on" : "off")}")
                : FormattableString.Invariant($"schedule: {probeConfig.Steps} steps x batch {probeConfig.BatchSize}, warm-up {probeConfig.WarmupSteps}, lr {probeConfig.LearningRate:G3}"));

            var cacheDir = parse.GetValue(cache);
            var temporary = cacheDir is null ? Directory.CreateTempSubdirectory("bat-embed-").FullName : null;
            var rows = new List<Bat.Reporting.ResultRow>();
            try
            {
                string folder = cacheDir ?? temporary!, dataset = recipe.Task;
                if (crossValidate)
                {
                    CrossValidationResult cv;
                    if (probeName == ProbeCatalog.FineTune)
                        cv = new(recipe.Folds.Select(f => new FoldRun(f, ProbeExperiment.FineTune(source, manifestPath, fineConfig, testFold: f, normCacheDir: folder))).ToList());
                    else
                    {
                        using var session = ProbeExperiment.OpenFolds(source, manifestPath, folder);
                        Console.WriteLine($"input: {session.Session.Input.Frames} frames, frontend {Bat.Json.Serialize(session.Session.Input.Frontend)}");
                        cv = ProbeExperiment.RunFolds(session, probeName, k, probeConfig);
                    }
                    foreach (var f in cv.Folds) Print(f.Result, modelName, $"{dataset}/fold{f.Fold}");
                    var std = cv.Std;
                    Console.WriteLine($"{probeName} on {modelName} / {dataset}, {cv.Folds.Count}-fold mean: " + string.Join("  ", cv.Mean.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                        .Select(kv => $"{kv.Key} {kv.Value.ToString("F2", CultureInfo.InvariantCulture)} +- {std[kv.Key].ToString("F2", CultureInfo.InvariantCulture)}")));
                    rows = ProbeResults.FoldRows(cv, parse.GetValue(experiment)!, dataset, modelName, k, runSeed, chosen.Name);
                }
                else
                {
                    ProbeRunResult result;
                    if (probeName == ProbeCatalog.FineTune) result = ProbeExperiment.FineTune(source, manifestPath, fineConfig, normCacheDir: folder);
                    else
                    {
                        using var session = ProbeExperiment.Open(source, manifestPath, folder);
                        Console.WriteLine($"input: {session.Input.Frames} frames, frontend {Bat.Json.Serialize(session.Input.Frontend)}");
                        result = ProbeExperiment.Run(session.Task, probeName, k, probeConfig);
                    }
                    Print(result, modelName, dataset);
                    rows = ProbeResults.Rows(result, parse.GetValue(experiment)!, dataset, modelName, k, runSeed, chosen.Name);
                }
            }
            finally { if (temporary is not null) Directory.Delete(temporary, recursive: true); }

            AppendResults(parse.GetValue(output), rows);
            return 0;
        });
        return command;
    }

    /// <summary>Refuses a fine-tuning option on a frozen probe, which trains on cached embeddings without it.</summary>
    static void FineTuneOnly(string option, string probeName)
    {
        if (probeName != ProbeCatalog.FineTune)
            throw new BatException(option, "applies to --probe finetune only (the frozen probes train on cached embeddings, without augmentation or encoder updates)");
    }

    /// <summary>`--weights`: which encoder of a pre-training checkpoint is read.</summary>
    internal static Option<EncoderWeights> WeightsOption() => new("--weights")
    {
        Description = "Which encoder of the checkpoint: student (the default; what data2vec 2.0 and EAT release) | teacher (the EMA teacher; a run imported with `bat import` has none).",
        DefaultValueFactory = _ => EncoderWeights.Student,
    };

    /// <summary>The recipes `bat probe --help` lists: each official recipe and every preset's scale.</summary>
    static string RecipeHelp()
    {
        var lines = new List<string>
        {
            "Each task follows its official recipe (houtan-ghaffari/BAT_ICML2026 configs), chosen from the manifest: " +
            "event-labelled (an events CSV named in the sidecar) -> DCASE 2016 task 2: frame-wise probes (cgp, and the baselines lp, lcgp, h2t, pb on " +
            $"their own official schedule: {TaskRecipe.OfficialSedBaselineProbing.Steps} steps x batch {TaskRecipe.OfficialSedBaselineProbing.BatchSize}, warm-up {TaskRecipe.OfficialSedBaselineProbing.WarmupSteps}), scored by event-based onset F1; " +
            "multi-label -> AS-20k; single-label with folds or clips over 2 s -> ESC-50; shorter single-label clips -> SC-v2. " +
            "Every task is fed at its own clip length (rounded up to the patch size), kaldi frontends normalised with the task's own train-split constants. " +
            "Without a validation split the probe trains on all of train and reports the last step.",
        };
        foreach (var family in Enum.GetValues<RecipeFamily>())
        {
            var p = TaskRecipe.OfficialProbing(family);
            var f = TaskRecipe.OfficialFineTuning(family);
            lines.Add($"  {family}: probe {p.Steps} steps x batch {p.BatchSize}, warm-up {p.WarmupSteps}, wd {p.WeightDecay}; " +
                      $"fine-tune {f.Steps} steps x batch {f.BatchSize}, AdamW ({f.Beta1}, {f.Beta2}), drop path {f.DropPath}, head dropout {f.HeadDropout}, " +
                      $"mixup {(f.MixupProbability > 0 ? f.MixupProbability.ToString(CultureInfo.InvariantCulture) : "off")}, masks {f.MaskRepeats} x (<= {f.FreqMaskBins} bins, <= {f.TimeMaskFrames} frames), " +
                      $"colour noise {(f.ColourNoiseChance > 0 ? f.ColourNoiseChance.ToString(CultureInfo.InvariantCulture) : "off")}, time roll {(f.TimeRoll ? "on" : "off")}");
        }
        foreach (var p in Preset.All)
            lines.Add($"  --preset {p.Name}: " + (p.Recipes.IsOfficial ? "the official schedules" : p.Recipes.Describe()));
        return string.Join("\n", lines);
    }

    public static Command Embed()
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Pre-training run folder or checkpoints/step-*.pt file (not with --merge)." };
        var manifest = new Option<string?>("--manifest") { Description = "Manifest CSV (not with --merge)." };
        var output = new Option<string>("--out") { Description = "Cache folder (one SPLIT.batemb file per split).", Required = true };
        var split = new Option<string[]>("--split") { Description = "Split(s) to embed (default: all of the manifest's).", AllowMultipleArgumentsPerToken = true };
        var batch = new Option<int>("--batch") { Description = "Clips per encoder pass (shards of one cache must use the same).", DefaultValueFactory = _ => 16 };
        var force = new Option<bool>("--force") { Description = "Recompute and overwrite existing caches (also ones made from another checkpoint or manifest)." };
        var shard = new Option<string?>("--shard") { Description = "i/n: embed only the i-th of n shares of each split into a partial cache (one job per share; then --merge)." };
        var merge = new Option<bool>("--merge") { Description = "Join the partial caches in --out into the caches the probes use (bit-identical to one process)." };
        var weights = WeightsOption();
        var command = new Command("embed", "Cache all layers' CLS and patch tokens of a frozen checkpoint for a manifest (float16, memory-mapped).")
        {
            checkpoint, manifest, output, split, batch, force, shard, merge, weights,
        };
        command.SetGuardedAction(parse =>
        {
            string cacheDir = parse.GetValue(output)!;
            if (parse.GetValue(merge))
            {
                if (parse.GetValue(shard) is not null) throw new BatException("--merge", "merges the shards: leave out --shard");
                foreach (var (name, path, shards, clips) in ProbeExperiment.MergeShards(cacheDir))
                    Console.WriteLine($"{name,-8} {clips,6} clips  merged from {shards} shards  {path}");
                return 0;
            }
            string checkpointPath = parse.GetValue(checkpoint) ?? throw new BatException("--checkpoint", "required (except with --merge)");
            string manifestPath = parse.GetValue(manifest) ?? throw new BatException("--manifest", "required (except with --merge)");
            var splits = parse.GetValue(split) is { Length: > 0 } s ? s : null;
            Preflight.EnsureWritable(cacheDir);
            var share = parse.GetValue(shard) is { } text ? EmbeddingShard.Parse(text) : ((int, int)?)null;
            var reports = ProbeExperiment.Embed(CheckpointSource.Resolve(checkpointPath, parse.GetValue(weights)), manifestPath, cacheDir, splits, parse.GetValue(batch), parse.GetValue(force), share);
            foreach (var r in reports)
                Console.WriteLine($"{r.Split,-8} {r.Clips,6} clips  {r.BytesPerClip / 1024.0:F1} KiB per clip  " +
                                  $"{r.Clips * r.BytesPerClip / 1048576.0:F1} MiB  {(r.Reused ? "reused (matches)" : $"{r.Seconds:F1} s")}  {r.Path}");
            return 0;
        });
        return command;
    }

    /// <summary>`bat bench probe`, added to the `bench` group.</summary>
    public static Command Bench()
    {
        var preset = new Option<string>("--preset") { Description = "Encoder size: tiny|small|base.", DefaultValueFactory = _ => Preset.Tiny.Name };
        var batch = new Option<int>("--batch") { Description = "Clips per step.", DefaultValueFactory = _ => 16 };
        var prototypes = new Option<int?>("--prototypes") { Description = "CGP prototypes (default by preset)." };
        var steps = new Option<int>("--steps") { Description = "Timed steps per measurement (after 2 warm-up steps).", DefaultValueFactory = _ => 10 };
        var clips = new Option<int>("--clips") { Description = "Train clips of the task the epoch and embedding costs are scaled to.", DefaultValueFactory = _ => 1400 };
        var probeSteps = new Option<int?>("--probe-steps") { Description = "CGP schedule length (default: the preset's)." };
        var melBins = new Option<int?>("--mel-bins") { Description = "Mel bins of the input (default: the preset's encoder)." };
        var frames = new Option<int?>("--frames") { Description = "Frames of the input (default: the preset's encoder; a 5 s task clip is 512)." };
        var command = new Command("probe", "CGP step speed on cached features vs recomputing the encoder, and CGP training vs one fine-tuning epoch.")
        {
            preset, batch, prototypes, steps, clips, probeSteps, melBins, frames,
        };
        command.SetGuardedAction(parse =>
        {
            var p = Preset.Named(parse.GetValue(preset)!).WithInput(parse.GetValue(melBins), parse.GetValue(frames));
            int k = parse.GetValue(prototypes) ?? p.Prototypes;
            int schedule = parse.GetValue(probeSteps) ?? p.Probing.Steps;
            int n = parse.GetValue(steps);
            if (n < 1 || parse.GetValue(batch) < 1) throw new BatException("--steps/--batch", "must be at least 1");
            Console.WriteLine($"bench probe: preset {p}, input {p.Encoder.MelBins} mel x {p.Encoder.Frames} frames ({p.Encoder.NumPatches} patches), batch {parse.GetValue(batch)}, K {k}, {n} timed steps, " +
                              $"{TorchSharp.torch.get_num_threads()} threads, device {Devices.Default}");
            var r = ProbeBench.Run(p.Encoder, parse.GetValue(batch), k, n, parse.GetValue(clips), schedule, log: Console.WriteLine);
            Console.WriteLine($"CGP steps/s cached {1 / r.CachedStepSeconds:F2}, recomputing the encoder {1 / r.RecomputeStepSeconds:F2}: " +
                              $"cached is {r.CachedSpeedup:F1}x faster");
            Console.WriteLine($"CGP pooling (forward + backward): max with indices is {r.PoolingSpeedup:F1}x faster than amax");
            Console.WriteLine($"CGP training ({r.Clips} clips embedded once + {r.ProbeSteps} steps) {r.CgpTrainingSeconds:F1} s vs one fine-tuning epoch " +
                              $"({Math.Ceiling((double)r.Clips / r.Batch)} steps) {r.FineTuneEpochSeconds:F1} s: ratio {r.CgpVsFineTuneEpoch:F2}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// `bat baseline`: the non-learned log-mel baseline (Table 5's `baseline` row, Bat.Probing.LogMelBaseline) on any
    /// clip task, without a checkpoint: the reference a probe on a frozen encoder must beat, in seconds.
    /// </summary>
    public static Command Baseline()
    {
        var manifest = new Option<string>("--manifest") { Description = "Manifest CSV (with train, valid and test splits).", Required = true };
        var preset = new Option<string>("--preset") { Description = "Scale of the task's probe schedule: smoke|tiny|small|base.", DefaultValueFactory = _ => Preset.Tiny.Name };
        var melBins = new Option<int?>("--mel-bins") { Description = "Mel bins of the BAT frontend (default: the preset's encoder)." };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out") { Description = "Results CSV to append rows to (shared schema; model \"baseline\")." };
        var experiment = new Option<string>("--experiment") { Description = "Experiment name in the results.", DefaultValueFactory = _ => "probe" };
        var command = new Command("baseline", $"The non-learned reference: per mel band, the mean and std over time of the clip's spectrogram, z-scored on train, " +
                                              $"into logistic regression with the task's linear-probe schedule (probe \"{LogMelBaseline.Name}\", model \"{ProbeComparison.Baseline}\").")
        {
            manifest, preset, melBins, seed, output, experiment,
        };
        command.SetGuardedAction(parse =>
        {
            var chosen = Preset.Named(parse.GetValue(preset)!);
            string manifestPath = parse.GetValue(manifest)!;
            int bins = parse.GetValue(melBins) ?? chosen.Encoder.MelBins;
            if (bins < 1) throw new BatException("--mel-bins", $"must be at least 1, got {bins}");
            CheckResultsCsv(parse.GetValue(output));
            int runSeed = parse.GetValue(seed);
            var recipe = chosen.RecipeFor(manifestPath, runSeed);
            var result = LogMelBaseline.Run(manifestPath, FrontendConfig.For(FrontendConfig.Bat, bins, recipe.Frames), recipe.Probing);
            Print(result, ProbeComparison.Baseline, recipe.Task);
            AppendResults(parse.GetValue(output), ProbeResults.Rows(result, parse.GetValue(experiment)!, recipe.Task, ProbeComparison.Baseline, null, runSeed, chosen.Name));
            return 0;
        });
        return command;
    }

    /// <summary>A results CSV that rows will be appended to (`--out`) must be writable and, if it exists, parse: checked
    /// before any work.</summary>
    static void CheckResultsCsv(string? csv)
    {
        if (csv is null) return;
        Preflight.EnsureWritableFile(csv);
        if (File.Exists(csv)) Bat.Reporting.ResultsTable.Read(csv);
    }

    static void AppendResults(string? csv, IEnumerable<Bat.Reporting.ResultRow> rows)
    {
        if (csv is null) return;
        Bat.Reporting.ResultsTable.Append(csv, rows);
        Console.WriteLine($"appended results to {csv}");
    }

    static void Print(ProbeRunResult result, string model, string dataset)
    {
        bool selected = result.Heads.Any(h => !double.IsNaN(h.ValidationScore));
        Console.WriteLine($"{result.Probe} on {model} / {dataset}: {result.Parameters:N0} params, {result.TrainSeconds:F1} s training, " +
                          $"{result.Steps} steps, " + (selected ? $"selected by validation {result.SelectionMetric}" : "last step reported (no validation split)"));
        foreach (var head in result.Heads)
        {
            var label = result.Heads.Count > 1 ? $"layer {head.Head + 1,2}: " : "";
            Console.WriteLine($"  {label}test " + string.Join("  ", head.Test.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => $"{kv.Key} {kv.Value.ToString("F2", CultureInfo.InvariantCulture)}")) + $"  (best step {head.BestStep})");
        }
        if (result.GateWeights is { } gate)
            Console.WriteLine("  gate weights by layer: " + string.Join(" ", gate.Select((a, l) => $"{l + 1}:{a:F3}")));
    }
}
