using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Bat.Audio;
using Bat.Data.Synth;
using Bat.Frontends;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Data;

/// <summary>
/// Turns waveforms into model input: <see cref="Compute"/> maps (B, samples) float32 at 16 kHz to
/// (B, 1, T, M). <see cref="Key"/> identifies the configuration (it keys the feature cache), so two
/// featurizers with the same key must compute the same thing.
/// </summary>
public sealed record Featurizer(string Key, Func<Tensor, Tensor> Compute)
{
    /// <summary>A frontend as featurizer; its config (serialised) is the cache key.</summary>
    public static Featurizer From(IFrontend frontend) => new("frontend:" + Json.Serialize(frontend.Config), frontend.Compute);
}

/// <summary>One batch: spectrograms (B, 1, T, M), labels (B, C) multi-hot / one-hot, and the split indices.</summary>
public sealed record Batch(Tensor Features, Tensor Labels, int[] Indices) : IDisposable
{
    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
    }
}

/// <summary>How a <see cref="FeatureLoader"/> batches and augments. Use the <see cref="Train"/> and
/// <see cref="Eval"/> presets and adjust with <c>with { ... }</c>.</summary>
public sealed record LoaderOptions
{
    public int BatchSize { get; init; } = 16;
    /// <summary>Reshuffle the order every epoch (seeded by Seed and the epoch number).</summary>
    public bool Shuffle { get; init; }
    /// <summary>Take a random window of <see cref="CropFrames"/> frames (training); otherwise the first frames.</summary>
    public bool RandomCrop { get; init; }
    /// <summary>Output length in frames (crop or zero-pad); null keeps what the featurizer returns.</summary>
    public int? CropFrames { get; init; }
    /// <summary>Random circular time shift of up to this fraction of the frames (0 = off).</summary>
    public double MaxShiftFraction { get; init; }
    public int Seed { get; init; }
    public bool DropLast { get; init; }
    /// <summary>
    /// Chance per clip of the official colour-noise augmentation on the waveform (Bat.Audio.ColourNoise; 0 = off).
    /// Noisy features differ every epoch, so with it on the feature cache is neither read nor written.
    /// </summary>
    public double ColourNoiseChance { get; init; }
    /// <summary>Folder of cached features (null = no cache). Keyed by file content hash + featurizer key.</summary>
    public string? CacheDir { get; init; }
    /// <summary>Store cached features as float16 (half the disk) instead of float32.</summary>
    public bool CacheFloat16 { get; init; }
    /// <summary>Batches prepared ahead on the worker thread.</summary>
    public int Prefetch { get; init; } = 4;
    /// <summary>Show a progress line on stderr while iterating.</summary>
    public bool Progress { get; init; }

    public static LoaderOptions Train(int batchSize, int seed, int? cropFrames = null) =>
        new() { BatchSize = batchSize, Seed = seed, Shuffle = true, RandomCrop = true, CropFrames = cropFrames, DropLast = true };

    public static LoaderOptions Eval(int batchSize, int? cropFrames = null) =>
        new() { BatchSize = batchSize, CropFrames = cropFrames };
}

/// <summary>
/// Loads one split of a manifest as batches of features and targets.
/// Each clip is decoded, resampled to 16 kHz, cut or zero-padded to the task's clip length, featurized
/// (or read from the feature cache), then cropped/padded to <see cref="LoaderOptions.CropFrames"/> in frames
/// (random window when training) and optionally circularly shifted in time. Batches are prepared on a worker
/// thread behind a bounded channel, so the consumer does not wait for I/O. The order and every augmentation
/// depend only on (Seed, epoch, index), never on timing. The consumer owns (and must dispose) each batch.
/// </summary>
public sealed class FeatureLoader
{
    public const int SampleRate = 16000;

    public Manifest Manifest { get; }
    public string SplitName { get; }
    public IReadOnlyList<ManifestEntry> Entries { get; }
    public LoaderOptions Options { get; }
    public int ClipSamples { get; }

    readonly EpochShuffler shuffler;
    readonly Featurizer _featurizer;
    readonly Func<string, float[]> _loadAudio;
    readonly ConcurrentDictionary<string, (long Length, DateTime Modified, string Hash)> _hashes = new();

    public FeatureLoader(Manifest manifest, string split, IFrontend frontend, LoaderOptions options)
        : this(manifest, split, Featurizer.From(frontend), options) { }

    /// <param name="audioLoader">Path -> mono samples at 16 kHz; default <see cref="AudioReader.Load"/> (any format, resampled).</param>
    public FeatureLoader(Manifest manifest, string split, Featurizer featurizer, LoaderOptions options,
        Func<string, float[]>? audioLoader = null)
        : this(manifest, split, manifest.Split(split), featurizer, options, audioLoader) { }

    /// <summary>Loads the given rows of the manifest (a cross-validation fold spans splits) under the name <paramref name="split"/>.</summary>
    public FeatureLoader(Manifest manifest, string split, IReadOnlyList<ManifestEntry> entries, Featurizer featurizer, LoaderOptions options,
        Func<string, float[]>? audioLoader = null)
    {
        if (options.BatchSize <= 0) throw new ArgumentException($"batch size must be positive, got {options.BatchSize}");
        Manifest = manifest;
        SplitName = split;
        Entries = entries;
        if (Entries.Count == 0)
            throw new BatException(manifest.CsvPath, $"split '{split}' has no rows (splits: {string.Join(", ", manifest.Splits)})");
        Options = options;
        _featurizer = featurizer;
        _loadAudio = audioLoader ?? LoadAudio;
        ClipSamples = (int)Math.Round(manifest.Task.ClipSeconds * SampleRate);
        shuffler = new EpochShuffler(Entries.Count, (epoch, order) => new SynthRng(options.Seed, 0x10AD, (int)epoch).Shuffle(order));
    }

    public int Count => Entries.Count;
    public int BatchesPerEpoch => Options.DropLast ? Count / Options.BatchSize : (Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>The order of split indices for an epoch (shuffled by (Seed, epoch) when Shuffle is on).</summary>
    public int[] Order(int epoch) =>
        Options.Shuffle ? [.. shuffler.Order(epoch)] : Enumerable.Range(0, Count).ToArray();

    /// <summary>
    /// The batches of one epoch, prepared ahead on a worker thread. Dispose each batch. <paramref name="batches"/>
    /// picks a range of the epoch's batches (a shard of `bat embed`); default all.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch = 0, Range? batches = null)
    {
        var order = Order(epoch);
        var (firstBatch, batchCount) = (batches ?? Range.All).GetOffsetAndLength(BatchesPerEpoch);
        var channel = Channel.CreateBounded<Batch>(new BoundedChannelOptions(Math.Max(1, Options.Prefetch))
        {
            SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = new CancellationTokenSource();
        ExceptionDispatchInfo? failure = null;
        var worker = Task.Run(async () =>
        {
            try
            {
                for (int b = firstBatch; b < firstBatch + batchCount && !stop.IsCancellationRequested; b++)
                {
                    var indices = order.Skip(b * Options.BatchSize).Take(Options.BatchSize).ToArray();
                    var batch = MakeBatch(indices, epoch);
                    try { await channel.Writer.WriteAsync(batch, stop.Token); }
                    catch (OperationCanceledException) { batch.Dispose(); break; }
                }
            }
            catch (Exception e) { failure = ExceptionDispatchInfo.Capture(e); }
            finally { channel.Writer.TryComplete(); }
        });

        using var progress = Options.Progress ? new ConsoleProgress($"load {Manifest.Task.Name}/{SplitName}", batchCount) : null;
        int done = 0;
        try
        {
            while (true)
            {
                // Blocking wait is fine: the consumer is a plain training loop, not an async context.
                if (!channel.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) break;
                while (channel.Reader.TryRead(out var batch))
                {
                    progress?.Report(++done);
                    yield return batch;
                }
            }
            worker.GetAwaiter().GetResult();
            failure?.Throw();
        }
        finally
        {
            // Early exit (break, exception): stop the worker and free what it prepared.
            stop.Cancel();
            try { worker.Wait(); } catch (AggregateException) { }
            while (channel.Reader.TryRead(out var left)) left.Dispose();
        }
    }

    /// <summary>Builds one batch synchronously (the worker calls this; also handy for tests and probes).</summary>
    public Batch MakeBatch(int[] indices, int epoch = 0)
    {
        using var scope = NewDisposeScope();
        var clips = new Tensor[indices.Length];
        var pending = new List<int>();   // positions in `indices` whose features are not cached
        var keys = new string?[indices.Length];
        var waves = new float[indices.Length][];
        for (int i = 0; i < indices.Length; i++)
        {
            var entry = Entries[indices[i]];
            if (Options.CacheDir is not null && Options.ColourNoiseChance == 0)
            {
                keys[i] = CacheKey(entry);
                if (FeatureCache.TryRead(CachePath(keys[i]!)) is { } cached) { clips[i] = cached; continue; }
            }
            waves[i] = ClipWaveform(entry);
            pending.Add(i);
        }
        if (pending.Count > 0)
        {
            var flat = new float[pending.Count * ClipSamples];
            for (int j = 0; j < pending.Count; j++) waves[pending[j]].CopyTo(flat, j * ClipSamples);
            var input = tensor(flat, [pending.Count, ClipSamples]);         // (b, S)
            if (Options.ColourNoiseChance > 0)
            {
                // One stream per (seed, epoch, batch): the same run draws the same noise.
                using var noise = new Generator((ulong)new SynthRng(Options.Seed, 0xC01 + epoch, indices[0]).Int(0, int.MaxValue));
                input = ColourNoise.Augment(input, Options.ColourNoiseChance, noise);
            }
            var features = _featurizer.Compute(input);                      // (b, S) -> (b, 1, T, M)
            if (features.dim() != 4 || features.shape[0] != pending.Count || features.shape[1] != 1)
                throw new BatException(_featurizer.Key, $"featurizer returned shape [{string.Join(", ", features.shape)}], expected (B, 1, T, M)");
            for (int j = 0; j < pending.Count; j++)
            {
                int i = pending[j];
                clips[i] = features[j];                                     // (1, T, M)
                if (keys[i] is { } key) FeatureCache.Write(CachePath(key), clips[i], Options.CacheFloat16);
            }
        }

        var shaped = new Tensor[indices.Length];
        for (int i = 0; i < indices.Length; i++)
            shaped[i] = Augment(clips[i], new SynthRng(Options.Seed, 0xA06 + epoch, indices[i]));
        var x = stack(shaped).to_type(ScalarType.Float32);                 // (B, 1, T', M)
        var y = Manifest.LabelMatrix(indices.Select(i => Entries[i]).ToList());   // (B, C)
        return new Batch(x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope(), indices);
    }

    /// <summary>Crop/pad in time to CropFrames (random window when training), then optional circular shift.</summary>
    Tensor Augment(Tensor clip, SynthRng rng)   // (1, T, M) -> (1, T', M)
    {
        long t = clip.shape[1];
        var x = clip;
        if (Options.CropFrames is int target && target != t)
        {
            if (t > target)
            {
                long start = Options.RandomCrop ? rng.Int(0, (int)(t - target)) : 0;
                x = x.narrow(1, start, target);
            }
            else x = nn.functional.pad(x, [0, 0, 0, target - t]);          // zero frames at the end
        }
        if (Options.MaxShiftFraction > 0)
        {
            int max = (int)(Options.MaxShiftFraction * x.shape[1]);
            int shift = rng.Int(-max, max);
            if (shift != 0) x = x.roll(shift, 1);
        }
        return x;
    }

    /// <summary>Decoded, finite, 16 kHz samples cut or zero-padded to the task's clip length.</summary>
    float[] ClipWaveform(ManifestEntry entry)
    {
        if (!File.Exists(entry.FullPath))
            throw new BatException(Manifest.CsvPath, $"line {entry.Row}: audio file not found: {entry.FullPath}");
        var samples = _loadAudio(entry.FullPath);
        foreach (var v in samples)
            if (!float.IsFinite(v)) throw new BatException(entry.FullPath, "audio contains NaN or infinite samples");
        if (samples.Length == ClipSamples) return samples;
        var fixedLength = new float[ClipSamples];
        Array.Copy(samples, fixedLength, Math.Min(samples.Length, ClipSamples));
        return fixedLength;
    }

    static float[] LoadAudio(string path) => AudioReader.Load(path, SampleRate).Samples;

    string CacheKey(ManifestEntry entry)
    {
        var info = new FileInfo(entry.FullPath);
        if (!info.Exists) throw new BatException(Manifest.CsvPath, $"line {entry.Row}: audio file not found: {entry.FullPath}");
        var hash = _hashes.AddOrUpdate(entry.FullPath,
            p => (info.Length, info.LastWriteTimeUtc, HashFile(p)),
            (p, old) => old.Length == info.Length && old.Modified == info.LastWriteTimeUtc ? old : (info.Length, info.LastWriteTimeUtc, HashFile(p))).Hash;
        var key = $"{hash}|{_featurizer.Key}|{ClipSamples}|{(Options.CacheFloat16 ? "f16" : "f32")}";
        return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
    }

    static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    string CachePath(string key) => Path.Combine(Options.CacheDir!, key[..2], key + ".feat");
}
