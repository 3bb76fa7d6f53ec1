using System.Buffers.Binary;
using System.Security.Cryptography;

using System.Text.Json;
using Bat.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Pretraining;

/// <summary>
/// Run folder layout: RUN/config.json (the <see cref="PretrainConfig"/>), RUN/metrics.csv and
/// RUN/checkpoints/step-XXXXXX.pt, each with a sidecar step-XXXXXX.pt.sha256 holding the SHA-256 of the file.
///
/// A .pt file is "BATCKPT1\n", a little-endian int32 header length, a UTF-8 JSON header (step, seed, and
/// for every tensor its name, shape and byte offset), then the raw float32 data. Tensors are named
/// "student.*", "teacher.*", "decoder.*" (module state dicts) and "optim.*" (AdamW moments). All randomness
/// of a step is derived from (seed, step), so step and seed are the whole RNG state.
/// </summary>
public static class Checkpoint
{
    static readonly byte[] Magic = "BATCKPT1\n"u8.ToArray();

    public sealed record Header(long Step, long Seed, List<TensorEntry> Tensors);
    public sealed record TensorEntry(string Name, long[] Shape, long Offset);

    public static string Folder(string runDir) => Path.Combine(runDir, "checkpoints");
    public static string PathFor(string runDir, long step) => Path.Combine(Folder(runDir), $"step-{step:D6}.pt");

    /// <summary>Writes the checkpoint, then its checksum sidecar, each atomically (a crash leaves the old ones intact).</summary>
    public static string Save(string runDir, long step, long seed, IEnumerable<(string Name, Tensor Value)> tensors)
    {
        var entries = new List<TensorEntry>();
        var blobs = new List<float[]>();
        long offset = 0;
        foreach (var (name, value) in tensors)
        {
            if (value.dtype != ScalarType.Float32) throw new BatException(name, $"checkpoint tensors must be float32, got {value.dtype}");
            using var cpuCopy = value.detach().cpu().contiguous();
            var data = cpuCopy.data<float>().ToArray();
            entries.Add(new TensorEntry(name, value.shape, offset));
            blobs.Add(data);
            offset += data.LongLength * sizeof(float);
        }
        var header = JsonSerializer.SerializeToUtf8Bytes(new Header(step, seed, entries), Json.Options);
        var path = PathFor(runDir, step);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AtomicFile.Write(path, stream =>
        {
            void Put(ReadOnlySpan<byte> bytes) { stream.Write(bytes); sha.AppendData(bytes); }
            Put(Magic);
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, header.Length);
            Put(length);
            Put(header);
            foreach (var blob in blobs) Put(System.Runtime.InteropServices.MemoryMarshal.AsBytes(blob.AsSpan()));
        });
        AtomicFile.WriteAllText(path + ".sha256", $"{Convert.ToHexStringLower(sha.GetHashAndReset())}  {Path.GetFileName(path)}\n");
        return path;
    }

    /// <summary>Reads and verifies one checkpoint; a missing or mismatching checksum is a clear error.</summary>
    public static (Header Header, Dictionary<string, Tensor> Tensors) Read(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "checkpoint not found");
        var sidecar = path + ".sha256";
        if (!File.Exists(sidecar)) throw new BatException(path, "checksum sidecar .sha256 is missing (incomplete write?)");
        var bytes = File.ReadAllBytes(path);
        var expected = StrictUtf8.ReadAllText(sidecar, maxBytes: 4096).Split(' ', 2)[0].Trim();
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
            throw new BatException(path, $"checkpoint is corrupted: SHA-256 {actual} does not match {expected} in the sidecar");
        var (header, dataStart) = ParseHeader(bytes, bytes.LongLength, path);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var e in header.Tensors)
        {
            long count = e.Shape.Aggregate(1L, (a, b) => a * b);
            var values = new float[count];
            Buffer.BlockCopy(bytes, checked((int)(dataStart + e.Offset)), values, 0, checked((int)(count * sizeof(float))));
            tensors[e.Name] = tensor(values, e.Shape);
        }
        return (header, tensors);
    }

    /// <summary>
    /// The header of a checkpoint from its first bytes (<paramref name="start"/>: at least magic, length and header
    /// JSON) and the file's length, and where the tensor data starts. Every field is checked before anything is
    /// allocated from it: a header that is cut, not JSON, or lists a tensor with a negative or overflowing shape,
    /// a duplicate name or bytes beyond the end of the file is one BatException naming the file.
    /// </summary>
    public static (Header Header, long DataStart) ParseHeader(ReadOnlySpan<byte> start, long fileLength, string path)
    {
        if (start.Length < Magic.Length + 4 || !start[..Magic.Length].SequenceEqual(Magic))
            throw new BatException(path, "not a BAT checkpoint (bad magic)");
        long headerLength = BinaryPrimitives.ReadInt32LittleEndian(start[Magic.Length..]);
        long dataStart = Magic.Length + 4 + headerLength;
        if (headerLength <= 0 || dataStart > fileLength || dataStart > start.Length)
            throw new BatException(path, $"corrupt checkpoint header: it claims {headerLength} bytes, the file has {fileLength - Magic.Length - 4} after the length field");
        var json = start.Slice(Magic.Length + 4, (int)headerLength).ToArray();
        var header = Json.Guard(path, () => JsonSerializer.Deserialize<Header>(json, Json.Options)
                                           ?? throw new BatException(path, "empty checkpoint header"));
        long dataBytes = fileLength - dataStart;
        if (header.Step < 0) throw new BatException(path, $"corrupt checkpoint header: step {header.Step}");
        if (header.Tensors is null) throw new BatException(path, "corrupt checkpoint header: no tensor list");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in header.Tensors)
        {
            if (e is null || string.IsNullOrEmpty(e.Name) || e.Shape is null)
                throw new BatException(path, "corrupt checkpoint header: a tensor entry without name or shape");
            if (!names.Add(e.Name)) throw new BatException(path, $"corrupt checkpoint header: tensor '{e.Name}' is listed twice");
            if (e.Shape.Length > 8 || e.Shape.Any(d => d < 0))
                throw new BatException(path, $"corrupt checkpoint header: tensor '{e.Name}' has shape ({string.Join(", ", e.Shape)})");
            long count = 1;
            foreach (var d in e.Shape)
                if (d != 0 && count > dataBytes / sizeof(float) / d)
                    throw new BatException(path, $"corrupt checkpoint header: tensor '{e.Name}' of shape ({string.Join(", ", e.Shape)}) is larger than the file");
                else count *= d;
            if (e.Offset < 0 || e.Offset > dataBytes - count * sizeof(float))
                throw new BatException(path, $"corrupt checkpoint header: tensor '{e.Name}' at offset {e.Offset} ({count * sizeof(float)} bytes) lies outside the {dataBytes} data bytes");
        }
        return (header, dataStart);
    }

    /// <summary>Checkpoint files of a run, newest first.</summary>
    public static IEnumerable<string> All(string runDir) =>
        Directory.Exists(Folder(runDir))
            ? Directory.GetFiles(Folder(runDir), "step-*.pt").OrderByDescending(p => p, StringComparer.Ordinal)
            : [];

    /// <summary>
    /// The newest checkpoint that verifies; a corrupted one is reported on stderr and skipped, so loading falls
    /// back to the previous good checkpoint. Null when the run has none.
    /// </summary>
    public static (string Path, Header Header, Dictionary<string, Tensor> Tensors)? ReadLatest(string runDir)
    {
        foreach (var path in All(runDir))
        {
            try
            {
                var (header, tensors) = Read(path);
                return (path, header, tensors);
            }
            catch (BatException e)
            {
                Console.Error.WriteLine($"warning: {e.Message}; falling back to the previous checkpoint");
            }
        }
        return null;
    }

    /// <summary>Copies tensors named prefix + key into a module's state dict (shapes must match exactly).</summary>
    public static void LoadInto(TorchSharp.torch.nn.Module module, Dictionary<string, Tensor> tensors, string prefix, string source)
    {
        using var _ = no_grad();
        foreach (var (name, target) in module.state_dict())
        {
            if (!tensors.TryGetValue(prefix + name, out var value))
                throw new BatException(source, $"checkpoint has no tensor '{prefix + name}' (was it written with another config?)");
            if (!value.shape.SequenceEqual(target.shape))
                throw new BatException(source, $"tensor '{prefix + name}' has shape ({string.Join(", ", value.shape)}), the model expects ({string.Join(", ", target.shape)})");
            target.copy_(value);
        }
    }

    /// <summary>
    /// The frozen pre-trained encoder of a run (folder or one .pt file) and the config it was trained with
    /// (encoder shape, frontend). Gives the student by default, as data2vec 2.0 / EAT release it for
    /// fine-tuning; <paramref name="teacher"/> picks the EMA teacher instead.
    /// </summary>
    public static (Encoder Encoder, PretrainConfig Config) LoadEncoder(string runDirOrCheckpoint, bool teacher = false)
    {
        string runDir, source;
        Dictionary<string, Tensor> tensors;
        if (Directory.Exists(runDirOrCheckpoint))
        {
            runDir = runDirOrCheckpoint;
            var latest = ReadLatest(runDir) ?? throw new BatException(runDir, "no usable checkpoint in checkpoints/");
            (source, tensors) = (latest.Path, latest.Tensors);
        }
        else
        {
            source = runDirOrCheckpoint;
            tensors = Read(source).Tensors;
            runDir = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(source)))!;
        }
        var config = Json.Load<PretrainConfig>(Path.Combine(runDir, "config.json"));
        var encoder = new Encoder(config.Encoder);
        try { LoadInto(encoder, tensors, teacher ? "teacher." : "student.", source); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
        encoder.eval();
        foreach (var p in encoder.parameters()) p.requires_grad = false;
        return (encoder.to(Devices.Default), config);
    }
}
