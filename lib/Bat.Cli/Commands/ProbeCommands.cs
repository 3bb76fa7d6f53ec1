using System.CommandLine;
using System.Globalization;
using Bat.Experiments;
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
        var preset = new Option<string>("--preset") { Description = "Schedule preset: smoke|tiny|small|base.", DefaultValueFactory = _ => Preset.Tiny.Name };
        var prototypes = new Option<int?>("--prototypes") { Description = "Prototypes K (cgp, cgp-nocls, pb; default by preset)." };
        var steps = new Option<int?>("--steps") { Description = "Training steps (default by preset)." };
        var batch = new Option<int?>("--batch") { Description = "Batch size (default by preset)." };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var cache = new Option<string?>("--cache") { Description = "Embedding cache folder: used when it matches, filled when empty (default: a temporary folder)." };
        var output = new Option<string?>("--out") { Description = "Results CSV to append rows to (shared schema)." };
        var experiment = new Option<string>("--experiment") { Description = "Experiment name in the results.", DefaultValueFactory = _ => "probe" };
        var model = new Option<string?>("--model") { Description = "Model name in the results (default: the run folder's name)." };
        var command = new Command("probe", "Train a probe on a checkpoint's frozen features (or fine-tune it) and report test metrics.")
        {
            checkpoint, manifest, probe, preset, prototypes, steps, batch, seed, cache, output, experiment, model,
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
            if (parse.GetValue(output) is { } resultsCsv)
            {
                Preflight.EnsureWritableFile(resultsCsv);
                if (File.Exists(resultsCsv)) Bat.Reporting.ResultsTable.Read(resultsCsv);   // rows are appended to it: it must parse
            }
            if (parse.GetValue(cache) is { } cacheFolder) Preflight.EnsureWritable(cacheFolder);
            var source = CheckpointSource.Resolve(checkpointPath);
            string modelName = parse.GetValue(model) ?? Path.GetFileName(source.RunDir.TrimEnd('/'));

            ProbeRunResult result;
            string dataset;
            if (probeName == ProbeCatalog.FineTune)
            {
                var config = chosen.FineTuning with { Seed = runSeed };
                if (parse.GetValue(steps) is { } s) config = config.WithSteps(s);
                if (parse.GetValue(batch) is { } b) config = config with { BatchSize = b };
                dataset = Bat.Data.Manifest.Load(manifestPath).Task.Name;
                result = ProbeExperiment.FineTune(source, manifestPath, config);
            }
            else
            {
                var config = chosen.Probing with { Seed = runSeed };
                if (parse.GetValue(steps) is { } s) config = config.WithSteps(s);
                if (parse.GetValue(batch) is { } b) config = config with { BatchSize = b };
                var cacheDir = parse.GetValue(cache);
                var temporary = cacheDir is null ? Directory.CreateTempSubdirectory("bat-embed-").FullName : null;
                try
                {
                    using var session = ProbeExperiment.Open(source, manifestPath, cacheDir ?? temporary!);
                    dataset = session.Task.Name;
                    result = ProbeExperiment.Run(session.Task, probeName, k, config);
                }
                finally { if (temporary is not null) Directory.Delete(temporary, recursive: true); }
            }

            Print(result, modelName, dataset);
            if (parse.GetValue(output) is { } csv)
            {
                Bat.Reporting.ResultsTable.Append(csv, ProbeResults.Rows(result, parse.GetValue(experiment)!, dataset, modelName, k, runSeed, chosen.Name));
                Console.WriteLine($"appended results to {csv}");
            }
            return 0;
        });
        return command;
    }

    public static Command Embed()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Pre-training run folder or checkpoints/step-*.pt file.", Required = true };
        var manifest = new Option<string>("--manifest") { Description = "Manifest CSV.", Required = true };
        var output = new Option<string>("--out") { Description = "Cache folder (one SPLIT.batemb file per split).", Required = true };
        var split = new Option<string[]>("--split") { Description = "Split(s) to embed (default: all of the manifest's).", AllowMultipleArgumentsPerToken = true };
        var batch = new Option<int>("--batch") { Description = "Clips per encoder pass.", DefaultValueFactory = _ => 16 };
        var force = new Option<bool>("--force") { Description = "Recompute and overwrite existing caches (also ones made from another checkpoint or manifest)." };
        var command = new Command("embed", "Cache all layers' CLS and patch tokens of a frozen checkpoint for a manifest (float16, memory-mapped).")
        {
            checkpoint, manifest, output, split, batch, force,
        };
        command.SetGuardedAction(parse =>
        {
            var splits = parse.GetValue(split) is { Length: > 0 } s ? s : null;
            Preflight.EnsureWritable(parse.GetValue(output)!);
            var reports = ProbeExperiment.Embed(CheckpointSource.Resolve(parse.GetValue(checkpoint)!), parse.GetValue(manifest)!, parse.GetValue(output)!,
                splits, parse.GetValue(batch), parse.GetValue(force));
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
        var command = new Command("probe", "CGP step speed on cached features vs recomputing the encoder, and CGP training vs one fine-tuning epoch.")
        {
            preset, batch, prototypes, steps, clips, probeSteps,
        };
        command.SetGuardedAction(parse =>
        {
            var p = Preset.Named(parse.GetValue(preset)!);
            int k = parse.GetValue(prototypes) ?? p.Prototypes;
            int schedule = parse.GetValue(probeSteps) ?? p.Probing.Steps;
            int n = parse.GetValue(steps);
            if (n < 1 || parse.GetValue(batch) < 1) throw new BatException("--steps/--batch", "must be at least 1");
            Console.WriteLine($"bench probe: preset {p}, batch {parse.GetValue(batch)}, K {k}, {n} timed steps, " +
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

    static void Print(ProbeRunResult result, string model, string dataset)
    {
        Console.WriteLine($"{result.Probe} on {model} / {dataset}: {result.Parameters:N0} params, {result.TrainSeconds:F1} s training, " +
                          $"{result.Steps} steps, selected by validation {result.SelectionMetric}");
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
