using System.Diagnostics;
using System.Text.Json;
using Bat.Data;
using Bat.Frontends;
using Bat.Model;
using Bat.Pretraining;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// A pre-trained checkpoint as the probes see it: the file, its SHA-256, and the encoder and frontend configs
/// of its run (from RUN/config.json). Resolving reads no weights.
/// </summary>
public sealed record CheckpointSource(string CheckpointPath, string RunDir, string Sha256, JsonElement EncoderConfig, JsonElement FrontendConfig)
{
    public static CheckpointSource Resolve(string runDirOrCheckpoint)
    {
        string path, runDir;
        if (Directory.Exists(runDirOrCheckpoint))
        {
            runDir = runDirOrCheckpoint;
            path = Checkpoint.All(runDir).FirstOrDefault()
                   ?? throw new BatException(runDir, "no checkpoints/step-*.pt in this run folder (run the pre-training first, e.g. notebook 02)");
        }
        else if (File.Exists(runDirOrCheckpoint))
        {
            path = runDirOrCheckpoint;
            runDir = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(path)))!;
        }
        else throw new BatException(runDirOrCheckpoint, "checkpoint not found (expected a run folder or a checkpoints/step-*.pt file)");

        var configPath = PretrainRun.ConfigPath(runDir);
        if (!File.Exists(configPath)) throw new BatException(configPath, "run config not found next to the checkpoint");
        using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
        if (!doc.RootElement.TryGetProperty("encoder", out var encoder))
            throw new BatException(configPath, "run config has no 'encoder' section");
        var encoderConfig = encoder.Deserialize<EncoderConfig>(Json.Options)!;
        // Runs record their frontend; a run without one used the BAT frontend at the encoder's input size.
        JsonElement frontend = doc.RootElement.TryGetProperty("frontend", out var f) && f.ValueKind == JsonValueKind.Object
            ? f.Clone()
            : JsonSerializer.SerializeToElement(Bat.Frontends.FrontendConfig.For(Bat.Frontends.FrontendConfig.Bat, encoderConfig.MelBins, encoderConfig.Frames), Json.Options);
        return new CheckpointSource(Path.GetFullPath(path), Path.GetFullPath(runDir), FileHash.Sha256(path), encoder.Clone(), frontend);
    }

    public EncoderConfig Encoder => EncoderConfig.Deserialize<EncoderConfig>(Json.Options)!;
    public Bat.Frontends.FrontendConfig Frontend => FrontendConfig.Deserialize<Bat.Frontends.FrontendConfig>(Json.Options)!;

    /// <summary>The model input of this run: 16 kHz waveforms -> frontend features (B, 1, T, M).</summary>
    public Featurizer Featurizer()
    {
        var frontend = Bat.Frontends.Frontend.Create(Frontend);
        return new Featurizer($"frontend:{JsonSerializer.Serialize(FrontendConfig)}", frontend.Compute);
    }

    public (Encoder Encoder, PretrainConfig Config) LoadEncoder() => Checkpoint.LoadEncoder(CheckpointPath);
}

/// <summary>What `bat embed` did for one split.</summary>
public sealed record EmbedSplitReport(string Split, string Path, int Clips, long BytesPerClip, bool Reused, double Seconds);

/// <summary>An open probing task: its splits read from embedding caches (dispose to unmap them).</summary>
public sealed class ProbeSession(ProbeTask task, IReadOnlyList<IDisposable> owned, Manifest manifest, CheckpointSource checkpoint) : IDisposable
{
    public ProbeTask Task { get; } = task;
    public Manifest Manifest { get; } = manifest;
    public CheckpointSource Checkpoint { get; } = checkpoint;

    public void Dispose()
    {
        foreach (var d in owned) d.Dispose();
    }
}

/// <summary>
/// The probing workflow the CLI and notebooks 03/04 share: extract frozen features once per checkpoint
/// (<see cref="Embed"/>), open them as a <see cref="ProbeTask"/> (<see cref="Open"/>), train probes on them
/// (<see cref="Run"/>), or fine-tune the encoder itself (<see cref="FineTune"/>).
/// </summary>
public static class ProbeExperiment
{
    public const string TrainSplit = "train", TestSplit = "test";
    static readonly string[] ValidationNames = ["valid", "validation", "val", "dev"];

    public static EmbeddingCacheHeader ExpectedHeader(CheckpointSource checkpoint, Manifest manifest, string split, int clips, int layers, int tokens, int dim) =>
        new(EmbeddingCacheHeader.CurrentVersion, split, checkpoint.Sha256, checkpoint.CheckpointPath, checkpoint.EncoderConfig,
            checkpoint.FrontendConfig, Manifest.Sha256(manifest.CsvPath), clips, layers, tokens, dim, "float16",
            manifest.Split(split).Select(e => e.Path).ToList());

    /// <summary>
    /// Runs the frozen encoder over every clip of the splits (default: all of the manifest's) and writes one
    /// cache file per split under <paramref name="cacheDir"/>. A split whose cache already matches this
    /// checkpoint and manifest is reused; one made from anything else is refused with an error naming the file
    /// and what differs, unless <paramref name="force"/> (then every split is recomputed).
    /// </summary>
    public static IReadOnlyList<EmbedSplitReport> Embed(string checkpoint, string manifestCsv, string cacheDir,
        IEnumerable<string>? splits = null, int batchSize = 16, bool force = false)
    {
        var source = CheckpointSource.Resolve(checkpoint);
        var manifest = Manifest.Load(manifestCsv);
        var wanted = (splits ?? manifest.Splits).ToList();
        foreach (var s in wanted)
            if (!manifest.Splits.Contains(s)) throw new BatException(manifestCsv, $"no split '{s}' (splits: {string.Join(", ", manifest.Splits)})");

        var encoderConfig = source.Encoder;
        int layers = encoderConfig.Depth, tokens = 1 + encoderConfig.NumPatches, dim = encoderConfig.Dim;
        var reports = new List<EmbedSplitReport>();
        Encoder? encoder = null;
        try
        {
            foreach (var split in wanted)
            {
                var clock = Stopwatch.StartNew();
                var path = EmbeddingCache.FileFor(cacheDir, split);
                var expected = ExpectedHeader(source, manifest, split, manifest.Split(split).Count, layers, tokens, dim);
                if (!force && File.Exists(path))
                {
                    // Reuse a matching cache; refuse (naming the file and what differs) to overwrite another one.
                    using (EmbeddingCache.Open(path, expected)) { }
                    reports.Add(new EmbedSplitReport(split, path, expected.Clips, expected.BytesPerClip, true, 0));
                    continue;
                }
                encoder ??= source.LoadEncoder().Encoder;
                var loader = new FeatureLoader(manifest, split, source.Featurizer(), LoaderOptions.Eval(batchSize, encoderConfig.Frames));
                using var progress = new ConsoleProgress($"embed {split}", expected.Clips);
                int done = 0;
                EmbeddingCache.Write(path, expected, sink =>
                {
                    foreach (var batch in loader.Epoch())
                    {
                        using var b = batch;
                        using var scope = NewDisposeScope();
                        using var _ = no_grad();
                        using var output = encoder.Forward(b.Features.to(Devices.Default));
                        sink(output.Layers);
                        done += b.Indices.Length;
                        progress.Report(done);
                    }
                });
                reports.Add(new EmbedSplitReport(split, path, expected.Clips, expected.BytesPerClip, false, clock.Elapsed.TotalSeconds));
            }
        }
        finally { encoder?.Dispose(); }
        return reports;
    }

    /// <summary>
    /// Opens the train / validation / test caches of a manifest for a checkpoint (embedding them first when
    /// missing and <paramref name="embedIfMissing"/>). A cache from another checkpoint or config is refused
    /// with an error naming the file and what differs. Without a validation split, a seeded 15 % of train
    /// becomes the validation set (never the test split).
    /// </summary>
    public static ProbeSession Open(string checkpoint, string manifestCsv, string cacheDir, bool embedIfMissing = true, int batchSize = 16)
    {
        var source = CheckpointSource.Resolve(checkpoint);
        var manifest = Manifest.Load(manifestCsv);
        string? validation = ValidationSplit(manifest);
        foreach (var required in new[] { TrainSplit, TestSplit })
            if (!manifest.Splits.Contains(required))
                throw new BatException(manifestCsv, $"probing needs a '{required}' split (splits: {string.Join(", ", manifest.Splits)})");
        var needed = validation is null ? new[] { TrainSplit, TestSplit } : new[] { TrainSplit, validation, TestSplit };
        if (embedIfMissing)
        {
            var missing = needed.Where(s => !File.Exists(EmbeddingCache.FileFor(cacheDir, s))).ToList();
            if (missing.Count > 0) Embed(checkpoint, manifestCsv, cacheDir, missing, batchSize);
        }

        var enc = source.Encoder;
        var owned = new List<IDisposable>();
        try
        {
            FeatureSplit OpenSplit(string split)
            {
                var expected = ExpectedHeader(source, manifest, split, manifest.Split(split).Count, enc.Depth, 1 + enc.NumPatches, enc.Dim);
                var cache = EmbeddingCache.Open(EmbeddingCache.FileFor(cacheDir, split), expected);
                owned.Add(cache);
                return new FeatureSplit(cache, Targets(manifest, split));
            }
            var train = OpenSplit(TrainSplit);
            FeatureSplit valid;
            if (validation is not null) valid = OpenSplit(validation);
            else (train, valid) = CarveValidation(train, seed: 0);
            var task = new ProbeTask(manifest.Task.Name, manifest.Task.Kind == TaskKind.Multilabel, train, valid, OpenSplit(TestSplit));
            return new ProbeSession(task, owned, manifest, source);
        }
        catch
        {
            foreach (var d in owned) d.Dispose();
            throw;
        }
    }

    /// <summary>Targets (N, C) of a split in manifest order: multi-hot or one-hot.</summary>
    public static Tensor Targets(Manifest manifest, string split)
    {
        var entries = manifest.Split(split);
        var values = new float[entries.Count * manifest.Task.NumClasses];
        for (int i = 0; i < entries.Count; i++)
            foreach (var k in manifest.LabelIndices(entries[i])) values[i * manifest.Task.NumClasses + k] = 1;
        return tensor(values, entries.Count, manifest.Task.NumClasses);
    }

    /// <summary>The manifest's validation split (valid, validation, val or dev), or null when it has none.</summary>
    public static string? ValidationSplit(Manifest manifest) => ValidationNames.FirstOrDefault(manifest.Splits.Contains);

    /// <summary>A seeded 15 % of train as the validation set, for a manifest without one (never the test split).</summary>
    internal static (FeatureSplit Train, FeatureSplit Valid) CarveValidation(FeatureSplit train, int seed)
    {
        var order = Enumerable.Range(0, train.Count).ToArray();
        new Random(seed).Shuffle(order);
        int n = Math.Max(1, train.Count * 15 / 100);
        FeatureSplit Take(int[] rows)
        {
            using var index = tensor(rows.Select(r => (long)r).ToArray());
            return new FeatureSplit(new SubsetFeatureSource(train.Features, rows), train.Targets.index_select(0, index));
        }
        return (Take(order[n..]), Take(order[..n]));
    }

    /// <summary>Trains one frozen probe on a task (seeded) and returns its test metrics, cost and gate.</summary>
    public static ProbeRunResult Run(ProbeTask task, string probe, int prototypes, ProbeTrainingConfig config)
    {
        Devices.Seed(config.Seed);
        using var model = ProbeCatalog.Create(probe, task.Layers, task.Dim, task.Classes, prototypes);
        return ProbeTrainer.Train(model, task, config);
    }

    /// <summary>Fine-tunes a copy of the checkpoint's encoder on the manifest's audio (the upper reference).</summary>
    public static ProbeRunResult FineTune(string checkpoint, string manifestCsv, FineTuneConfig config, string? featureCacheDir = null)
    {
        Devices.Seed(config.Seed);
        var source = CheckpointSource.Resolve(checkpoint);
        var manifest = Manifest.Load(manifestCsv);
        string validation = ValidationNames.FirstOrDefault(manifest.Splits.Contains)
                            ?? throw new BatException(manifestCsv, "fine-tuning needs a validation split (valid)");
        var (encoder, _) = source.LoadEncoder();
        using (encoder)
            return FineTuner.Train(encoder, manifest, source.Featurizer(), config, featureCacheDir, validation, TestSplit);
    }
}

/// <summary>A subset of another source's rows (a validation split carved out of train).</summary>
public sealed class SubsetFeatureSource(IFeatureSource inner, int[] rows) : IFeatureSource
{
    public int Count => rows.Length;
    public int Layers => inner.Layers;
    public int Patches => inner.Patches;
    public int Dim => inner.Dim;

    public LayerFeatures Gather(IReadOnlyList<int> subset, bool withPatches, Device device) =>
        inner.Gather(subset.Select(i => rows[i]).ToArray(), withPatches, device);
}
