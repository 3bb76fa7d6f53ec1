using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// What a embedding cache was made from. Two caches are interchangeable only when all of it matches, so a
/// probe never silently trains on features of another checkpoint, encoder, frontend or manifest.
/// </summary>
public sealed record EmbeddingCacheHeader(
    int Version,
    string Split,
    string CheckpointSha256,
    string CheckpointPath,
    JsonElement EncoderConfig,
    JsonElement FrontendConfig,
    string ManifestSha256,
    int Clips,
    int Layers,
    int Tokens,
    int Dim,
    string DType,
    IReadOnlyList<string> Paths,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] EmbeddingShard? Shard = null,
    // Null: the student (caches written before the teacher could be read hold the student).
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Weights = null)
{
    public const int CurrentVersion = 1;

    /// <summary>Patch tokens per layer (Tokens includes the CLS at index 0).</summary>
    public int Patches => Tokens - 1;

    /// <summary>Bytes of one clip's features: L x (1+N) x D halves.</summary>
    public long BytesPerClip => (long)Layers * Tokens * Dim * sizeof(short);

    /// <summary>The differences from what a caller expects, as "what: cached X, expected Y" phrases (empty = compatible).</summary>
    public IReadOnlyList<string> DifferencesFrom(EmbeddingCacheHeader expected)
    {
        var differences = new List<string>();
        void Compare(string what, string cached, string wanted)
        {
            if (cached != wanted) differences.Add($"{what}: cached {Shorten(cached)}, expected {Shorten(wanted)}");
        }
        Compare("checkpoint SHA-256", CheckpointSha256, expected.CheckpointSha256);
        Compare("encoder weights", Weights ?? "student", expected.Weights ?? "student");
        Compare("encoder config", Canonical(EncoderConfig), Canonical(expected.EncoderConfig));
        Compare("frontend config", Canonical(FrontendConfig), Canonical(expected.FrontendConfig));
        Compare("manifest SHA-256", ManifestSha256, expected.ManifestSha256);
        Compare("split", Split, expected.Split);
        return differences;
    }

    static string Canonical(JsonElement e) => JsonSerializer.Serialize(e);

    static string Shorten(string s) => s.Length <= 80 ? s : s[..77] + "...";
}

/// <summary>
/// Which part of a split a partial cache holds (`bat embed --shard Index/Count`): the clips of the embedding
/// batches [Index * B / Count, (Index + 1) * B / Count) of the split's B batches of <see cref="BatchSize"/>, so
/// every batch is the one a single process would run and the merged cache is bit-identical to its cache.
/// </summary>
public sealed record EmbeddingShard(int Index, int Count, int FirstClip, int BatchSize)
{
    /// <summary>"i/n" -> (i, n), 0 &lt;= i &lt; n; a clear error otherwise.</summary>
    public static (int Index, int Count) Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out int i) && int.TryParse(parts[1], out int n) && n >= 1 && i >= 0 && i < n) return (i, n);
        throw new BatException("--shard", $"'{text}' is not i/n with 0 <= i < n (e.g. 0/4 for the first of four)");
    }

    /// <summary>The clip range [start, end) of shard <paramref name="index"/> of <paramref name="count"/>.</summary>
    public static (int Start, int End) Clips(int clips, int batchSize, int index, int count)
    {
        int batches = (clips + batchSize - 1) / batchSize;
        int first = (int)((long)index * batches / count), end = (int)((long)(index + 1) * batches / count);
        return (Math.Min(clips, first * batchSize), Math.Min(clips, end * batchSize));
    }
}

/// <summary>
/// On-disk frozen features of one split: all layers' CLS and patch tokens in float16, so many probes train
/// from one encoder pass. File layout (little-endian):
///   "BATEMB01" | int32 header length | header JSON (UTF-8) | zero padding to a 64-byte boundary |
///   body: Clips x Layers x (1 + N) x D float16, clip-major, token 0 = CLS.
/// The body is memory-mapped: a batch copies just its rows, so the cache can be larger than RAM.
/// </summary>
public sealed class EmbeddingCache : IEmbeddingSource, IDisposable
{
    static readonly byte[] Magic = "BATEMB01"u8.ToArray();
    const int Alignment = 64;

    readonly MemoryMappedFile file;
    readonly MemoryMappedViewAccessor view;
    readonly long bodyOffset;

    public string Path { get; }
    public EmbeddingCacheHeader Header { get; }

    EmbeddingCache(string path, EmbeddingCacheHeader header, MemoryMappedFile file, MemoryMappedViewAccessor view, long bodyOffset)
    {
        Path = path;
        Header = header;
        this.file = file;
        this.view = view;
        this.bodyOffset = bodyOffset;
    }

    public int Count => Header.Clips;
    public int Layers => Header.Layers;
    public int Patches => Header.Patches;
    public int Dim => Header.Dim;

    /// <summary>The cache file of a split inside a cache folder.</summary>
    public static string FileFor(string cacheDir, string split) => System.IO.Path.Combine(cacheDir, $"{split}.batemb");

    /// <summary>The partial cache of shard <paramref name="index"/> of <paramref name="count"/> of a split.</summary>
    public static string ShardFileFor(string cacheDir, string split, int index, int count) =>
        System.IO.Path.Combine(cacheDir, $"{split}.shard-{index}-of-{count}.batemb");

    /// <summary>Magic, header length, header JSON, zero padding to the alignment: the body starts after it.</summary>
    static void WriteHeader(Stream stream, EmbeddingCacheHeader header)
    {
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header, Json.Options));
        stream.Write(Magic);
        stream.Write(BitConverter.GetBytes(json.Length));
        stream.Write(json);
        long used = Magic.Length + sizeof(int) + json.Length;
        stream.Write(new byte[(Alignment - used % Alignment) % Alignment]);
    }

    /// <summary>
    /// Writes a cache atomically. <paramref name="writeBody"/> is called with a sink that takes one batch of
    /// encoder block outputs at a time (L tensors of (B, 1+N, D)) and must deliver exactly header.Clips clips.
    /// </summary>
    public static void Write(string path, EmbeddingCacheHeader header, Action<Action<IReadOnlyList<Tensor>>> writeBody)
    {
        AtomicFile.Write(path, stream =>
        {
            WriteHeader(stream, header);
            long clips = 0;
            writeBody(blocks =>
            {
                using var scope = NewDisposeScope();
                if (blocks.Count != header.Layers) throw new InvalidOperationException($"expected {header.Layers} layers, got {blocks.Count}");
                // L x (B, 1+N, D) -> (B, L, 1+N, D): clip-major, as the body layout says.
                var stacked = stack(blocks, 1).to(ScalarType.Float16).cpu().contiguous();
                if (stacked.shape[2] != header.Tokens || stacked.shape[3] != header.Dim)
                    throw new InvalidOperationException($"block outputs [{string.Join(", ", stacked.shape)}] do not match the header's tokens {header.Tokens} x dim {header.Dim}");
                stream.Write(stacked.bytes);
                clips += stacked.shape[0];
            });
            if (clips != header.Clips) throw new InvalidOperationException($"wrote {clips} clips, header says {header.Clips}");
        });
    }

    /// <summary>
    /// Joins the partial caches of all shards of one split (any order) into the cache a single process would have
    /// written, byte for byte, atomically. Every shard must be there once, from the same checkpoint, configs,
    /// manifest and batch size, and the shards must tile the split; otherwise an error names the file.
    /// </summary>
    public static EmbeddingCacheHeader Merge(IReadOnlyList<string> shardPaths, string outPath)
    {
        var shards = shardPaths.Select(p => (Path: p, Header: ReadHeader(p, out long body), Body: body))
            .OrderBy(s => s.Header.Shard?.Index ?? -1).ToList();
        var first = shards[0];
        foreach (var (path, h, body) in shards)
        {
            if (h.Shard is null) throw new BatException(path, "not a shard of `bat embed --shard` (no shard in its header)");
            if (h.Shard.Count != shards.Count)
                throw new BatException(path, $"shard {h.Shard.Index}/{h.Shard.Count}, but {shards.Count} shards of split '{h.Split}' are here");
            var differences = h.DifferencesFrom(first.Header);
            if (differences.Count > 0 || h.Shard.BatchSize != first.Header.Shard!.BatchSize)
                throw new BatException(path, $"made from something else than {first.Path} ({string.Join("; ", differences.Append($"batch size {h.Shard.BatchSize} vs {first.Header.Shard!.BatchSize}"))})");
            if (new FileInfo(path).Length != body + h.Clips * h.BytesPerClip)
                throw new BatException(path, "truncated or corrupt partial cache");
        }
        int expectedFirst = 0;
        for (int i = 0; i < shards.Count; i++)
        {
            var s = shards[i].Header.Shard!;
            if (s.Index != i) throw new BatException(shards[i].Path, $"shard {i}/{shards.Count} is missing or doubled (this file is {s.Index}/{s.Count})");
            if (s.FirstClip != expectedFirst) throw new BatException(shards[i].Path, $"starts at clip {s.FirstClip}, expected {expectedFirst}");
            expectedFirst += shards[i].Header.Clips;
        }
        var merged = first.Header with
        {
            Clips = expectedFirst,
            Paths = shards.SelectMany(s => s.Header.Paths).ToList(),
            Shard = null,
        };
        AtomicFile.Write(outPath, stream =>
        {
            WriteHeader(stream, merged);
            foreach (var (path, h, body) in shards)
            {
                using var input = File.OpenRead(path);
                input.Position = body;
                input.CopyTo(stream, 1 << 20);
            }
        });
        return merged;
    }

    /// <summary>Opens a cache; with <paramref name="expected"/>, refuses one made from anything else.</summary>
    public static EmbeddingCache Open(string path, EmbeddingCacheHeader? expected = null)
    {
        if (!File.Exists(path)) throw new BatException(path, "embedding cache not found (make it with `bat embed`)");
        var header = ReadHeader(path, out long bodyOffset);
        if (expected is not null)
        {
            var differences = header.DifferencesFrom(expected);
            if (differences.Count > 0)
                throw new BatException(path, $"embedding cache was made from something else ({string.Join("; ", differences)}); re-run `bat embed` or use another --cache folder");
        }
        long length = new FileInfo(path).Length;
        if (length != bodyOffset + header.Clips * header.BytesPerClip)
            throw new BatException(path, $"truncated or corrupt embedding cache: {length} bytes, expected {bodyOffset + header.Clips * header.BytesPerClip}");
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        return new EmbeddingCache(path, header, file, view, bodyOffset);
    }

    public static EmbeddingCacheHeader ReadHeader(string path, out long bodyOffset)
    {
        using var stream = File.OpenRead(path);
        var prefix = new byte[Magic.Length + sizeof(int)];
        if (stream.Read(prefix) != prefix.Length || !prefix.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new BatException(path, "not a BAT embedding cache (bad magic)");
        int length = BitConverter.ToInt32(prefix, Magic.Length);
        if (length <= 0 || length > stream.Length - prefix.Length) throw new BatException(path, "corrupt embedding cache header length");
        var json = new byte[length];
        stream.ReadExactly(json);
        EmbeddingCacheHeader header;
        try { header = JsonSerializer.Deserialize<EmbeddingCacheHeader>(json, Json.Options) ?? throw new JsonException("empty"); }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new BatException(path, $"corrupt embedding cache header: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        if (header.Split is null || header.CheckpointSha256 is null || header.ManifestSha256 is null || header.Paths is null
            || header.Clips < 0 || header.Layers < 1 || header.Tokens < 1 || header.Dim < 1 || header.Paths.Count != header.Clips
            || header.DType != "float16" || header.BytesPerClip > (1L << 40) / Math.Max(1, header.Clips))
            throw new BatException(path, $"corrupt embedding cache header: {header.Clips} clips, {header.Layers} layers, {header.Tokens} tokens, " +
                                         $"dim {header.Dim}, {header.Paths?.Count} paths, dtype {header.DType}");
        if (header.Version != EmbeddingCacheHeader.CurrentVersion)
            throw new BatException(path, $"embedding cache version {header.Version}, this build reads {EmbeddingCacheHeader.CurrentVersion}; re-run `bat embed`");
        long used = prefix.Length + length;
        bodyOffset = used + (Alignment - used % Alignment) % Alignment;
        return header;
    }

    public LayerEmbeddings Gather(IReadOnlyList<int> rows, bool withPatches, Device device)
    {
        using var scope = NewDisposeScope();
        int b = rows.Count, l = Layers, t = Header.Tokens, d = Dim;
        long clipBytes = Header.BytesPerClip;
        foreach (var row in rows) CheckRow(row);
        if (withPatches)
        {
            var half = empty(new long[] { b, l, t, d }, ScalarType.Float16);                       // (B, L, 1+N, D)
            CopyFromFile(half, rows.Select(r => (r * clipBytes, clipBytes)));
            // Converting the two views separately writes each float32 result once, already contiguous.
            var cls = half.select(2, 0).to(ScalarType.Float32, device).contiguous();             // (B, L, D)
            var patches = half.narrow(2, 1, t - 1).to(ScalarType.Float32, device).contiguous();  // (B, L, N, D)
            return new LayerEmbeddings(cls.MoveToOuterDisposeScope(), patches.MoveToOuterDisposeScope());
        }
        else
        {
            // Only the CLS of each layer: L strided reads of D halves per clip.
            long tokenBytes = (long)d * sizeof(short), layerBytes = t * tokenBytes;
            var half = empty(new long[] { b, l, d }, ScalarType.Float16);                          // (B, L, D)
            CopyFromFile(half, rows.SelectMany(r => Enumerable.Range(0, l).Select(layer => (r * clipBytes + layer * layerBytes, tokenBytes))));
            var cls = half.to(ScalarType.Float32, device);
            var patches = zeros(new long[] { b, l, 0, d }, device: device);
            return new LayerEmbeddings(cls.MoveToOuterDisposeScope(), patches.MoveToOuterDisposeScope());
        }
    }

    /// <summary>
    /// Copies byte ranges of the mapped body (offsets from the body's start) back to back into a CPU tensor's
    /// storage: straight from the page cache, without a managed buffer in between (which cost a large-object
    /// allocation and one more copy per batch).
    /// </summary>
    unsafe void CopyFromFile(Tensor destination, IEnumerable<(long Offset, long Bytes)> ranges)
    {
        var handle = view.SafeMemoryMappedViewHandle;
        byte* mapped = null;
        handle.AcquirePointer(ref mapped);
        try
        {
            byte* body = mapped + view.PointerOffset + bodyOffset;
            var target = destination.bytes;   // a span over the tensor's own (CPU, contiguous) storage
            int written = 0;
            foreach (var (offset, bytes) in ranges)
            {
                new ReadOnlySpan<byte>(body + offset, checked((int)bytes)).CopyTo(target[written..]);
                written += (int)bytes;
            }
            if (written != target.Length) throw new InvalidOperationException($"copied {written} bytes into a {target.Length}-byte tensor");
        }
        finally { handle.ReleasePointer(); }
    }

    void CheckRow(int row)
    {
        if (row < 0 || row >= Count) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} outside 0..{Count - 1} of {Path}");
    }

    public void Dispose()
    {
        view.Dispose();
        file.Dispose();
    }
}
