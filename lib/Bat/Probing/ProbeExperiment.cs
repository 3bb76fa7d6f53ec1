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
public sealed class ProbeSession(ProbeTask task, IReadOnlyList<IDisposable> owned, Manifest manifest, CheckpointSource checkpoint, TaskInput input,
    string cacheDir) : IDisposable
{
    public ProbeTask Task { get; } = task;
    /// <summary>The folder of the session's embedding caches (and of its remembered probe runs, <see cref="ProbeRunMemo"/>).</summary>
    public string CacheDir { get; } = cacheDir;
    public Manifest Manifest { get; } = manifest;
    public CheckpointSource Checkpoint { get; } = checkpoint;
    /// <summary>The frontend (the task's length and normalisation) the caches were made with.</summary>
    public TaskInput Input { get; } = input;

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

    /// <summary>The header of a split's cache for a checkpoint and the task's input (its frontend, length and tokens).</summary>
    public static EmbeddingCacheHeader ExpectedHeader(CheckpointSource checkpoint, TaskInput input, Manifest manifest, string split)
    {
        var encoder = checkpoint.Encoder;
        var entries = manifest.Split(split);
        return new(EmbeddingCacheHeader.CurrentVersion, split, checkpoint.Sha256, checkpoint.CheckpointPath, checkpoint.EncoderConfig,
            JsonSerializer.SerializeToElement(input.Frontend, Json.Options), Manifest.Sha256(manifest.CsvPath), entries.Count,
            encoder.Depth, input.Tokens, encoder.Dim, "float16", entries.Select(e => e.Path).ToList(),
            Weights: checkpoint.WeightsMark);
    }

    /// <summary>
    /// Runs the frozen encoder over every clip of the splits (default: all of the manifest's) at the task's own
    /// length and normalisation (<see cref="TaskInput"/>) and writes one cache file per split under <paramref name="cacheDir"/>. A split whose cache already matches this
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

        var input = TaskInput.For(source, manifest, cacheDir);
        var reports = new List<EmbedSplitReport>();
        Encoder? encoder = null;
        try
        {
            foreach (var split in wanted)
            {
                var clock = Stopwatch.StartNew();
                var path = EmbeddingCache.FileFor(cacheDir, split);
                var expected = ExpectedHeader(source, input, manifest, split);
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
                var loader = new FeatureLoader(manifest, split, input.Featurizer(), LoaderOptions.Eval(batchSize, input.Frames));
                using var progress = new ConsoleProgress($"embed {split}", expected.Clips);
                int done = 0;
                EmbeddingCache.Write(path, expected, sink =>
                {
                    foreach (var batch in loader.Epoch(batches: batches))
                    {
                        using var b = batch;
                        using var scope = NewDisposeScope();
                        using var _ = no_grad();
                        // Event tasks' long clips are encoded as the official ViT does, in chunks of the pre-training length.
                        sink(manifest.Task.HasEvents ? ChunkedEncoding.Layers(encoder, b.Features.to(Devices.Default), source.Encoder.Frames)
                            : encoder.Forward(b.Features.to(Devices.Default)).Layers);
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
    /// with an error naming the file and what differs. Without a validation split the task has none: the probe
    /// trains on all of train and reports its last step (the official AS-20k recipe; no hold-out is carved).
    /// </summary>
    public static ProbeSession Open(CheckpointSource source, string manifestCsv, string cacheDir, bool embedIfMissing = true, int batchSize = 16)
    {
        var manifest = Manifest.Load(manifestCsv);
        string? validation = ValidationSplit(manifest);
        RequireProbingSplits(manifest, manifestCsv);
        var needed = validation is null ? new[] { TrainSplit, TestSplit } : new[] { TrainSplit, validation, TestSplit };
        return OpenSplits(source, manifest, cacheDir, needed, embedIfMissing, batchSize, (input, split) =>
            new ProbeTask(manifest.Task.Name, manifest.Task.Kind == TaskKind.Multilabel, split(TrainSplit),
                validation is null ? null : split(validation), split(TestSplit), SoundEventTaskOf(manifest, source.Encoder)));
    }

    /// <summary>
    /// Opens every split's cache of an ESC-50-layout manifest (<see cref="TaskRecipe.FoldsOf"/>) as one
    /// cross-validation: for each fold, a task that trains on every other fold (all splits) and tests on this one,
    /// without validation (the official ESC-50 recipe: 5 folds, the last step of each reported).
    /// </summary>
    public static CrossValidation OpenFolds(CheckpointSource source, string manifestCsv, string cacheDir, bool embedIfMissing = true, int batchSize = 16)
    {
        var manifest = Manifest.Load(manifestCsv);
        if (manifest.Task.HasEvents)
            throw new BatException(manifestCsv, "cross-validation of a sound event detection task is not supported: its official recipe (DCASE 2016 task 2) uses train / valid / test");
        var folds = TaskRecipe.FoldsOf(manifest);
        if (folds.Count == 0)
            throw new BatException(manifestCsv, "cross-validation needs a fold (1, 2, ...) on every row and at least two folds (the ESC-50 layout)");
        var splits = manifest.Splits;
        var rows = splits.SelectMany(manifest.Split).ToList();   // the stacked caches' rows, split after split
        var tasks = new List<(int Fold, ProbeTask Task)>();
        var session = OpenSplits(source, manifest, cacheDir, splits, embedIfMissing, batchSize, (input, split) =>
        {
            var all = new StackedEmbeddingSource(splits.Select(s => split(s).Embeddings).ToList());
            EmbeddingSplit Take(Func<ManifestEntry, bool> keep)
            {
                var picked = Enumerable.Range(0, rows.Count).Where(i => keep(rows[i])).ToArray();
                return new EmbeddingSplit(new SubsetEmbeddingSource(all, picked), manifest.LabelMatrix(picked.Select(i => rows[i]).ToList()));
            }
            foreach (var fold in folds)
                tasks.Add((fold, new ProbeTask($"{manifest.Task.Name}/fold{fold}", manifest.Task.Kind == TaskKind.Multilabel,
                    Take(e => e.Fold != fold), null, Take(e => e.Fold == fold))));
            return tasks[0].Task;
        });
        return new CrossValidation(session, tasks);
    }

    /// <summary>Embeds what is missing, opens the caches of <paramref name="splits"/> and builds the task from them.</summary>
    static ProbeSession OpenSplits(CheckpointSource source, Manifest manifest, string cacheDir, IReadOnlyList<string> splits, bool embedIfMissing,
        int batchSize, Func<TaskInput, Func<string, EmbeddingSplit>, ProbeTask> build)
    {
        if (embedIfMissing)
        {
            var missing = splits.Where(s => !File.Exists(EmbeddingCache.FileFor(cacheDir, s))).ToList();
            if (missing.Count > 0) Embed(source, manifest.CsvPath, cacheDir, missing, batchSize);
        }
        var input = TaskInput.For(source, manifest, cacheDir);
        var owned = new List<IDisposable>();
        var opened = new Dictionary<string, EmbeddingSplit>();
        try
        {
            EmbeddingSplit OpenSplit(string split)
            {
                if (opened.TryGetValue(split, out var known)) return known;
                var cache = EmbeddingCache.Open(EmbeddingCache.FileFor(cacheDir, split), ExpectedHeader(source, input, manifest, split));
                owned.Add(cache);
                var entries = manifest.Split(split);
                return opened[split] = manifest.Task.HasEvents
                    ? new EmbeddingSplit(cache, manifest.FrameTargetMatrix(entries, input.Frames / source.Encoder.PatchSize, SoundEventTaskOf(manifest, source.Encoder)!.PatchMs),
                        entries.Select(manifest.EventsOf).ToList())
                    : new EmbeddingSplit(cache, manifest.LabelMatrix(entries));
            }
            return new ProbeSession(build(input, OpenSplit), owned, manifest, source, input, cacheDir);
        }
        catch
        {
            foreach (var d in owned) d.Dispose();
            throw;
        }
    }

    /// <summary>The event detection part of a manifest's task for an encoder (null for a clip-level task).</summary>
    static SoundEventTask? SoundEventTaskOf(Manifest manifest, EncoderConfig encoder) =>
        manifest.Task.HasEvents ? new SoundEventTask(manifest.Task.Classes, SoundEvents.PatchMilliseconds(encoder.PatchSize), encoder.GridFreq) : null;

    /// <summary>Probing trains on 'train' and reports on 'test': a manifest without either is a clear error naming the file.</summary>
    public static void RequireProbingSplits(Manifest manifest, string manifestCsv)
    {
        foreach (var required in new[] { TrainSplit, TestSplit })
            if (!manifest.Splits.Contains(required))
                throw new BatException(manifestCsv, $"probing needs a '{required}' split (splits: {string.Join(", ", manifest.Splits)})");
    }

    /// <summary>The manifest's validation split (valid, validation, val or dev), or null when it has none.</summary>
    public static string? ValidationSplit(Manifest manifest) => ValidationNames.FirstOrDefault(manifest.Splits.Contains);

    /// <summary>Trains one frozen probe on a task (seeded) and returns its test metrics, cost and gate.</summary>
    public static ProbeRunResult Run(ProbeTask task, string probe, int prototypes, ProbeTrainingConfig config)
    {
        Devices.Seed(config.Seed);
        using var model = ProbeCatalog.CreateFor(task, probe, prototypes);
        return ProbeTrainer.Train(model, task, config);
    }

    /// <summary>
    /// <see cref="Run(ProbeTask, string, int, ProbeTrainingConfig)"/> on the session's task, remembered in the
    /// session's cache folder (<see cref="ProbeRunMemo"/>): the notebooks ask for several of the same runs (the
    /// ablation's CGP is Table 5's, Figure 2's K = 256 point and Figure 4's gate), and a notebook re-run after a
    /// crash finds the runs it finished.
    /// </summary>
    public static ProbeRunResult Run(ProbeSession session, string probe, int prototypes, ProbeTrainingConfig config) =>
        ProbeRunMemo.GetOrRun(session, session.Task, probe, prototypes, config, () => Run(session.Task, probe, prototypes, config));

    /// <summary>Trains one frozen probe per fold (seeded alike) and returns each fold's result; with
    /// <paramref name="remember"/>, each fold's run is remembered as <see cref="Run(ProbeSession, string, int, ProbeTrainingConfig)"/> does.</summary>
    public static CrossValidationResult RunFolds(CrossValidation cv, string probe, int prototypes, ProbeTrainingConfig config, bool remember = false) =>
        new(cv.Folds.Select(f => new FoldRun(f.Fold, remember
            ? ProbeRunMemo.GetOrRun(cv.Session, f.Task, probe, prototypes, config, () => Run(f.Task, probe, prototypes, config))
            : Run(f.Task, probe, prototypes, config))).ToList());

    /// <summary>
    /// Fine-tunes a copy of the checkpoint's encoder on the manifest's audio (the upper reference), at the task's
    /// own length and normalisation. With <paramref name="testFold"/> it trains on every other fold and tests on
    /// that one (ESC-50 cross-validation); otherwise train / the validation split if any / test.
    /// </summary>
    public static ProbeRunResult FineTune(CheckpointSource source, string manifestCsv, FineTuneConfig config, string? featureCacheDir = null,
        int? testFold = null, string? normCacheDir = null)
    {
        Devices.Seed(config.Seed);
        var manifest = Manifest.Load(manifestCsv);
        if (manifest.Task.HasEvents)
            throw new BatException(manifestCsv, $"fine-tuning a sound event detection task is not supported (only the frame-wise probes are: {string.Join("|", ProbeCatalog.FrameWise)})");
        FineTuneSplits splits;
        if (testFold is int fold)
        {
            if (!TaskRecipe.FoldsOf(manifest).Contains(fold)) throw new BatException(manifestCsv, $"no fold {fold} (folds: {string.Join(", ", TaskRecipe.FoldsOf(manifest))})");
            splits = new FineTuneSplits($"fold{fold}", manifest.Entries.Where(e => e.Fold != fold).ToList(), null, manifest.Entries.Where(e => e.Fold == fold).ToList());
        }
        else
        {
            RequireProbingSplits(manifest, manifestCsv);
            var validation = ValidationSplit(manifest);
            splits = new FineTuneSplits(TestSplit, manifest.Split(TrainSplit), validation is null ? null : manifest.Split(validation), manifest.Split(TestSplit));
        }
        var input = TaskInput.For(source, manifest, normCacheDir);
        using var encoder = source.LoadEncoder();
        return FineTuner.Train(encoder, manifest, input, config, splits, featureCacheDir);
    }
}

/// <summary>The folds of a cross-validation (each a task: train on the other folds, test on this one) and the open caches behind them.</summary>
public sealed class CrossValidation(ProbeSession session, IReadOnlyList<(int Fold, ProbeTask Task)> folds) : IDisposable
{
    public ProbeSession Session { get; } = session;
    public IReadOnlyList<(int Fold, ProbeTask Task)> Folds { get; } = folds;
    public void Dispose() => Session.Dispose();
}

/// <summary>One fold's run.</summary>
public sealed record FoldRun(int Fold, ProbeRunResult Result);

/// <summary>A cross-validation's runs, and each test metric's mean and (population, as numpy's) std over the folds.</summary>
public sealed record CrossValidationResult(IReadOnlyList<FoldRun> Folds)
{
    public IReadOnlyDictionary<string, double> Mean => Folds[0].Result.Test.Keys.ToDictionary(k => k, k => Folds.Average(f => f.Result.Test[k]));

    public IReadOnlyDictionary<string, double> Std => Folds[0].Result.Test.Keys.ToDictionary(k => k, k =>
    {
        double mean = Mean[k];
        return Math.Sqrt(Folds.Average(f => (f.Result.Test[k] - mean) * (f.Result.Test[k] - mean)));
    });
}

/// <summary>Several sources one after the other, as one (a cross-validation's folds span every split's cache).</summary>
public sealed class StackedEmbeddingSource : IEmbeddingSource
{
    readonly IReadOnlyList<IEmbeddingSource> parts;
    readonly int[] starts;

    public StackedEmbeddingSource(IReadOnlyList<IEmbeddingSource> parts)
    {
        if (parts.Count == 0 || parts.Any(p => p.Layers != parts[0].Layers || p.Patches != parts[0].Patches || p.Dim != parts[0].Dim))
            throw new ArgumentException("stacked sources need the same layers, patches and width");
        this.parts = parts;
        starts = new int[parts.Count + 1];
        for (int i = 0; i < parts.Count; i++) starts[i + 1] = starts[i] + parts[i].Count;
    }

    public int Count => starts[^1];
    public int Layers => parts[0].Layers;
    public int Patches => parts[0].Patches;
    public int Dim => parts[0].Dim;

    public LayerEmbeddings Gather(IReadOnlyList<int> rows, bool withPatches, Device device)
    {
        using var scope = NewDisposeScope();
        // Gather each part's rows in one call, then put them back in the order asked.
        var located = rows.Select((r, at) => (Part: PartOf(r), Row: r, At: at)).ToList();
        var pieces = located.GroupBy(l => l.Part).Select(g =>
        {
            var list = g.ToList();
            var e = parts[g.Key].Gather(list.Select(l => l.Row - starts[g.Key]).ToArray(), withPatches, device);
            return (Positions: list.Select(l => (long)l.At).ToArray(), e.Cls, e.Patches);
        }).ToList();
        using var order = tensor(pieces.SelectMany(p => p.Positions).ToArray()).argsort().to(device);
        var cls = cat(pieces.Select(p => p.Cls).ToList(), 0).index_select(0, order);
        var patches = cat(pieces.Select(p => p.Patches).ToList(), 0).index_select(0, order);
        return new LayerEmbeddings(cls.MoveToOuterDisposeScope(), patches.MoveToOuterDisposeScope());
    }

    int PartOf(int row)
    {
        if (row < 0 || row >= Count) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} outside 0..{Count - 1}");
        int part = 0;
        while (row >= starts[part + 1]) part++;   // a few parts: a scan is clearer than a search that must skip empty ones
        return part;
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
