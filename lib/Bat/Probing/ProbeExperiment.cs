using System.Diagnostics;
using System.Text.Json;
using Bat.Data;
using Bat.Frontends;
using Bat.Model;
using Bat.Training;
using static TorchSharp.torch;

namespace Bat.Probing;

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
    /// and what differs, unless <paramref name="force"/> (then every split is recomputed). With
    /// <paramref name="shard"/> = (i, n) only the i-th of n shares of each split is embedded, into a partial
    /// cache that <see cref="MergeShards"/> joins with the others (one machine or job per share).
    /// </summary>
    public static IReadOnlyList<EmbedSplitReport> Embed(CheckpointSource source, string manifestCsv, string cacheDir,
        IEnumerable<string>? splits = null, int batchSize = 16, bool force = false, (int Index, int Count)? shard = null)
    {
        if (batchSize < 1) throw new BatException("--batch", "must be at least 1");
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
                var batches = Range.All;
                if (shard is var (index, count))
                {
                    // A share of whole embedding batches, so each batch holds exactly the clips of a single-process run.
                    var (start, end) = EmbeddingShard.Clips(expected.Clips, batchSize, index, count);
                    path = EmbeddingCache.ShardFileFor(cacheDir, split, index, count);
                    expected = expected with
                    {
                        Clips = end - start, Paths = expected.Paths.Skip(start).Take(end - start).ToList(),
                        Shard = new EmbeddingShard(index, count, start, batchSize),
                    };
                    batches = (start / batchSize)..((end + batchSize - 1) / batchSize);
                }
                if (!force && File.Exists(path))
                {
                    // Reuse a matching cache; refuse (naming the file and what differs) to overwrite another one.
                    using (EmbeddingCache.Open(path, expected)) { }
                    reports.Add(new EmbedSplitReport(split, path, expected.Clips, expected.BytesPerClip, true, 0));
                    continue;
                }
                encoder ??= source.LoadEncoder();
                var loader = new FeatureLoader(manifest, split, source.Featurizer(), LoaderOptions.Eval(batchSize, encoderConfig.Frames));
                using var progress = new ConsoleProgress($"embed {split}", expected.Clips);
                int done = 0;
                EmbeddingCache.Write(path, expected, sink =>
                {
                    foreach (var batch in loader.Epoch(batches: batches))
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
    /// `bat embed --merge`: joins the partial caches of every sharded split in <paramref name="cacheDir"/> into
    /// the split's cache (bit-identical to a single-process `bat embed`), then deletes the partial files.
    /// </summary>
    public static IReadOnlyList<(string Split, string Path, int Shards, int Clips)> MergeShards(string cacheDir)
    {
        if (!Directory.Exists(cacheDir)) throw new BatException(cacheDir, "cache folder not found");
        var groups = Directory.GetFiles(cacheDir, "*.shard-*-of-*.batemb")
            .GroupBy(p => Path.GetFileName(p)[..Path.GetFileName(p).IndexOf(".shard-", StringComparison.Ordinal)])
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (groups.Count == 0) throw new BatException(cacheDir, "no partial caches (*.shard-i-of-n.batemb from `bat embed --shard i/n`) to merge");
        var merged = new List<(string, string, int, int)>();
        foreach (var group in groups)
        {
            var shards = group.ToList();
            var path = EmbeddingCache.FileFor(cacheDir, group.Key);
            var header = EmbeddingCache.Merge(shards, path);
            foreach (var shard in shards) File.Delete(shard);
            merged.Add((group.Key, path, shards.Count, header.Clips));
        }
        return merged;
    }

    /// <summary>
    /// Opens the train / validation / test caches of a manifest for a checkpoint (embedding them first when
    /// missing and <paramref name="embedIfMissing"/>). A cache from another checkpoint or config is refused
    /// with an error naming the file and what differs. Without a validation split, a seeded 15 % of train
    /// becomes the validation set (never the test split).
    /// </summary>
    public static ProbeSession Open(CheckpointSource source, string manifestCsv, string cacheDir, bool embedIfMissing = true, int batchSize = 16)
    {
        var manifest = Manifest.Load(manifestCsv);
        string? validation = ValidationSplit(manifest);
        RequireProbingSplits(manifest, manifestCsv);
        var needed = validation is null ? new[] { TrainSplit, TestSplit } : new[] { TrainSplit, validation, TestSplit };
        if (embedIfMissing)
        {
            var missing = needed.Where(s => !File.Exists(EmbeddingCache.FileFor(cacheDir, s))).ToList();
            if (missing.Count > 0) Embed(source, manifestCsv, cacheDir, missing, batchSize);
        }

        var enc = source.Encoder;
        var owned = new List<IDisposable>();
        try
        {
            EmbeddingSplit OpenSplit(string split)
            {
                var expected = ExpectedHeader(source, manifest, split, manifest.Split(split).Count, enc.Depth, 1 + enc.NumPatches, enc.Dim);
                var cache = EmbeddingCache.Open(EmbeddingCache.FileFor(cacheDir, split), expected);
                owned.Add(cache);
                return new EmbeddingSplit(cache, manifest.LabelMatrix(manifest.Split(split)));
            }
            var train = OpenSplit(TrainSplit);
            EmbeddingSplit valid;
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

    /// <summary>Probing trains on 'train' and reports on 'test': a manifest without either is a clear error naming the file.</summary>
    public static void RequireProbingSplits(Manifest manifest, string manifestCsv)
    {
        foreach (var required in new[] { TrainSplit, TestSplit })
            if (!manifest.Splits.Contains(required))
                throw new BatException(manifestCsv, $"probing needs a '{required}' split (splits: {string.Join(", ", manifest.Splits)})");
    }

    /// <summary>The manifest's validation split (valid, validation, val or dev), or null when it has none.</summary>
    public static string? ValidationSplit(Manifest manifest) => ValidationNames.FirstOrDefault(manifest.Splits.Contains);

    /// <summary>A seeded 15 % of train as the validation set, for a manifest without one (never the test split).</summary>
    internal static (EmbeddingSplit Train, EmbeddingSplit Valid) CarveValidation(EmbeddingSplit train, int seed)
    {
        var order = new EpochShuffler(train.Count, (_, rows) => new Random(seed).Shuffle(rows)).Order(0);
        int n = Math.Max(1, train.Count * 15 / 100);
        EmbeddingSplit Take(int[] rows)
        {
            using var index = tensor(rows.Select(r => (long)r).ToArray());
            return new EmbeddingSplit(new SubsetEmbeddingSource(train.Embeddings, rows), train.Labels.index_select(0, index));
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
    public static ProbeRunResult FineTune(CheckpointSource source, string manifestCsv, FineTuneConfig config, string? featureCacheDir = null)
    {
        Devices.Seed(config.Seed);
        var manifest = Manifest.Load(manifestCsv);
        string validation = ValidationSplit(manifest)
                            ?? throw new BatException(manifestCsv, "fine-tuning needs a validation split (valid)");
        using (var encoder = source.LoadEncoder())
            return FineTuner.Train(encoder, manifest, source.Featurizer(), config, featureCacheDir, validation, TestSplit);
    }
}

/// <summary>A subset of another source's rows (a validation split carved out of train).</summary>
public sealed class SubsetEmbeddingSource(IEmbeddingSource inner, int[] rows) : IEmbeddingSource
{
    public int Count => rows.Length;
    public int Layers => inner.Layers;
    public int Patches => inner.Patches;
    public int Dim => inner.Dim;

    public LayerEmbeddings Gather(IReadOnlyList<int> subset, bool withPatches, Device device) =>
        inner.Gather(subset.Select(i => rows[i]).ToArray(), withPatches, device);
}
