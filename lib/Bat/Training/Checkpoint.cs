using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using Bat.Data;
using Bat.Frontends;
using Bat.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Training;

/// <summary>
/// Run folder layout: RUN/config.json (the run's config: a Bat.Pretraining.PretrainConfig), RUN/metrics.csv and
/// RUN/checkpoints/step-XXXXXX.pt, each with a sidecar step-XXXXXX.pt.sha256 holding the SHA-256 of the file.
///
/// A .pt file is "BATCKPT1\n", a little-endian int32 header length, a UTF-8 JSON header (step, seed, and
/// for every tensor its name, shape and 64-bit byte offset), then the raw float32 data back to back. Files and
/// tensors of any size stream through in chunks, so base-size runs with optimiser state (over 2 GB) save too. Tensors are named
/// "student.*", "teacher.*", "decoder.*" (module state dicts) and "optim.*" (AdamW moments). All randomness
/// of a step is derived from (seed, step), so step and seed are the whole RNG state.
/// </summary>
public static class Checkpoint
{
    static readonly byte[] Magic = "BATCKPT1\n"u8.ToArray();

    public sealed record Header(long Step, long Seed, List<TensorEntry> Tensors);
    public sealed record TensorEntry(string Name, long[] Shape, long Offset)
    {
        public long Bytes => Shape.Aggregate(1L, (a, b) => a * b) * sizeof(float);
    }

    public static string Folder(string runDir) => Path.Combine(runDir, "checkpoints");
    public static string ConfigPath(string runDir) => Path.Combine(runDir, "config.json");
    /// <summary>The run folder of a checkpoint file: RUN/checkpoints/step-XXXXXX.pt -> RUN.</summary>
    public static string RunDirOf(string checkpointPath) => Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(checkpointPath)))!;
    public static string PathFor(string runDir, long step) => Path.Combine(Folder(runDir), $"step-{step:D6}.pt");
    /// <summary>The update count in a checkpoint's name, the inverse of <see cref="PathFor"/> (step-000100.pt -> 100), without reading the file.</summary>
    public static long StepOf(string checkpointPath) =>
        long.Parse(Path.GetFileNameWithoutExtension(checkpointPath)["step-".Length..], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Bytes moved per read or write call: tensors of any size stream through without a managed copy.</summary>
    const int ChunkBytes = 16 << 20;

    /// <summary>Writes the checkpoint, then its checksum sidecar, each atomically (a crash leaves the old ones intact).</summary>
    public static string Save(string runDir, long step, long seed, IEnumerable<(string Name, Tensor Value)> tensors)
    {
        var named = tensors.ToList();
        var entries = new List<TensorEntry>();
        long offset = 0;
        foreach (var (name, value) in named)
        {
            if (value.dtype != ScalarType.Float32) throw new BatException(name, $"checkpoint tensors must be float32, got {value.dtype}");
            entries.Add(new TensorEntry(name, value.shape, offset));
            offset += value.numel() * sizeof(float);
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
            foreach (var (_, value) in named)
            {
                using var detached = value.detach();
                using var cpu = detached.cpu();
                using var contiguous = cpu.contiguous();
                ForEachChunk(contiguous, chunk => Put(chunk));
            }
        });
        AtomicFile.WriteAllText(path + ".sha256", $"{Convert.ToHexStringLower(sha.GetHashAndReset())}  {Path.GetFileName(path)}\n");
        return path;
    }

    /// <summary>
    /// Reads and verifies one checkpoint in a single streaming pass (no limit on file or tensor size); a missing or
    /// mismatching checksum is a clear error. <paramref name="sha256"/>: the file's SHA-256 when the caller has just
    /// computed it (see <see cref="CheckpointSource.Resolve"/>), so that the file is hashed once.
    /// <paramref name="keep"/> picks the tensors to load (default: all); the others are read past, never held in memory.
    /// </summary>
    public static (Header Header, Dictionary<string, Tensor> Tensors) Read(string path, string? sha256 = null, Func<string, bool>? keep = null)
    {
        if (!File.Exists(path)) throw new BatException(path, "checkpoint not found");
        var tensors = new Dictionary<string, Tensor>();
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            void Get(Span<byte> bytes)
            {
                stream.ReadExactly(bytes);
                if (sha256 is null) sha.AppendData(bytes);
            }
            // The header is checked (ParseHeader) as soon as it is read, but a malformed one is reported only after
            // the checksum: a damaged file says "corrupted", an intact hostile one says what is wrong with it.
            Header? header = null;
            BatException? malformed = null;
            bool wellFormed = false;
            var start = new byte[(int)Math.Min(stream.Length, Magic.Length + 4)];
            Get(start);
            if (start.Length == Magic.Length + 4)
            {
                int headerLength = BinaryPrimitives.ReadInt32LittleEndian(start.AsSpan(Magic.Length));
                if (headerLength > 0 && headerLength <= stream.Length - start.Length)
                {
                    Array.Resize(ref start, start.Length + headerLength);
                    Get(start.AsSpan(Magic.Length + 4));
                }
            }
            try { header = ParseHeader(start, stream.Length, path).Header; }
            catch (BatException e) { malformed = e; }
            long dataBytes = header?.Tensors.Sum(e => e.Bytes) ?? -1;
            // Save writes the tensors back to back in header order: read them as one stream.
            if (header is not null && header.Tensors.Select(e => e.Offset).SequenceEqual(Offsets(header)) && stream.Position + dataBytes == stream.Length)
            {
                wellFormed = true;
                var scratch = new byte[ChunkBytes];
                foreach (var e in header.Tensors)
                {
                    if (keep is null || keep(e.Name))
                    {
                        var value = empty(e.Shape, ScalarType.Float32);
                        tensors[e.Name] = value;
                        ForEachChunk(value, chunk => Get(chunk));
                    }
                    else
                        for (long left = e.Bytes; left > 0; left -= ChunkBytes)
                            Get(scratch.AsSpan(0, (int)Math.Min(left, ChunkBytes)));
                }
            }
            else
            {
                // Hash the rest anyway: a damaged file is reported as corrupted, an intact foreign one as not ours.
                var scratch = new byte[1 << 20];
                for (int n; (n = stream.Read(scratch)) > 0;) if (sha256 is null) sha.AppendData(scratch.AsSpan(0, n));
            }
            Verify(path, sha256 ?? Convert.ToHexStringLower(sha.GetHashAndReset()));
            if (malformed is not null) throw malformed;
            if (!wellFormed)
                throw new BatException(path, "corrupt checkpoint: its tensors are not stored back to back in header order, as Save writes them");
            return (header!, tensors);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>The offsets Save writes: tensors back to back in header order.</summary>
    static IEnumerable<long> Offsets(Header header)
    {
        long offset = 0;
        foreach (var e in header.Tensors)
        {
            yield return offset;
            offset += e.Bytes;
        }
    }

    /// <summary>The storage of a CPU contiguous float tensor, in spans of at most <see cref="ChunkBytes"/> (a span's
    /// length is an int, so a large tensor goes through views of its flat storage).</summary>
    static void ForEachChunk(Tensor contiguous, SpanAction action)
    {
        using var flat = contiguous.view(-1);
        long total = flat.numel(), step = ChunkBytes / sizeof(float);
        for (long at = 0; at < total; at += step)
        {
            using var chunk = flat.narrow(0, at, Math.Min(step, total - at));
            action(chunk.bytes);
        }
    }

    delegate void SpanAction(Span<byte> chunk);

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

    /// <summary>Compares a checkpoint's SHA-256 with its sidecar's: a missing sidecar or another value is a clear error.</summary>
    static void Verify(string path, string actual)
    {
        var sidecar = path + ".sha256";
        if (!File.Exists(sidecar)) throw new BatException(path, "checksum sidecar .sha256 is missing (incomplete write?)");
        var expected = StrictUtf8.ReadAllText(sidecar, maxBytes: 4096).Split(' ', 2)[0].Trim();
        if (!string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
            throw new BatException(path, $"checkpoint is corrupted: SHA-256 {actual} does not match {expected} in the sidecar");
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
}

/// <summary>
/// Which of a pre-training checkpoint's two encoders the probes read: the student (what data2vec 2.0 and EAT release
/// for fine-tuning) or the EMA teacher (an average of the student's recent weights, which DINO found the better of the
/// two to probe).
/// </summary>
public enum EncoderWeights { Student, Teacher }

/// <summary>
/// A pre-trained checkpoint as the probes see it: the file, its SHA-256 (computed once, here; loading the weights
/// checks it against the sidecar), the encoder and frontend configs of its run (from RUN/config.json), and which of
/// its encoders is read (<see cref="Weights"/>). Resolving reads no weights.
/// </summary>
public sealed record CheckpointSource(string CheckpointPath, string RunDir, string Sha256, JsonElement EncoderConfig, JsonElement FrontendConfig)
{
    /// <summary>The encoder <see cref="LoadEncoder"/> gives; part of every embedding cache's identity.</summary>
    public EncoderWeights Weights { get; init; } = EncoderWeights.Student;

    /// <summary>What caches, embedding folders, model names and recipes are marked with when the encoder read is not
    /// the student ("teacher"); null for the student, so everything made before the choice existed keeps its name.</summary>
    public string? WeightsMark => Weights == EncoderWeights.Student ? null : Weights.ToString().ToLowerInvariant();

    /// <summary>A run folder (its newest checkpoint) or one checkpoints/step-*.pt file; <paramref name="weights"/>: which encoder to read.</summary>
    public static CheckpointSource Resolve(string runDirOrCheckpoint, EncoderWeights weights = EncoderWeights.Student)
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
            runDir = Checkpoint.RunDirOf(path);
        }
        else throw new BatException(runDirOrCheckpoint, "checkpoint not found (expected a run folder or a checkpoints/step-*.pt file)");

        var configPath = Checkpoint.ConfigPath(runDir);
        if (!File.Exists(configPath)) throw new BatException(configPath, "run config not found next to the checkpoint");
        // An edited or corrupt config.json is one error naming it (and sizes that would allocate terabytes are refused).
        var text = StrictUtf8.ReadAllText(configPath);
        using var doc = Json.Guard(configPath, () => JsonDocument.Parse(text));
        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("encoder", out var encoder) || encoder.ValueKind != JsonValueKind.Object)
            throw new BatException(configPath, "run config has no 'encoder' section");
        var encoderConfig = Json.Guard(configPath, () =>
        {
            var c = encoder.Deserialize<EncoderConfig>(Json.Options)!;
            c.Validate();
            return c;
        });
        // Runs record their frontend; a run without one used the BAT frontend at the encoder's input size.
        JsonElement frontend = doc.RootElement.TryGetProperty("frontend", out var f) && f.ValueKind == JsonValueKind.Object
            ? f.Clone()
            : JsonSerializer.SerializeToElement(Bat.Frontends.FrontendConfig.For(Bat.Frontends.FrontendConfig.Bat, encoderConfig.MelBins, encoderConfig.Frames), Json.Options);
        Json.Guard(configPath, () =>
        {
            var c = frontend.Deserialize<Bat.Frontends.FrontendConfig>(Json.Options) ?? throw new BatException(configPath, "'frontend' is null");
            c.Validate();
            return c;
        });
        return new CheckpointSource(Path.GetFullPath(path), Path.GetFullPath(runDir), FileHash.Sha256(path), encoder.Clone(), frontend) { Weights = weights };
    }

    public EncoderConfig Encoder => EncoderConfig.Deserialize<EncoderConfig>(Json.Options)!;
    public Bat.Frontends.FrontendConfig Frontend => FrontendConfig.Deserialize<Bat.Frontends.FrontendConfig>(Json.Options)!;

    /// <summary>The model input of this run: 16 kHz waveforms -> frontend features (B, 1, T, M).</summary>
    public Featurizer Featurizer() => Data.Featurizer.From(Bat.Frontends.Frontend.Create(Frontend));

    /// <summary>
    /// The frozen pre-trained encoder of this checkpoint (<see cref="Weights"/>: the student or the EMA teacher), in
    /// eval mode without gradients. A checkpoint without a teacher (`bat import` keeps only the student) is refused
    /// naming the file.
    /// </summary>
    public Encoder LoadEncoder()
    {
        var prefix = Weights == EncoderWeights.Teacher ? "teacher." : "student.";
        // Only the encoder's tensors: a base run's teacher, decoder and optimiser state (GBs) stay on disk.
        var tensors = Checkpoint.Read(CheckpointPath, Sha256, name => name.StartsWith(prefix, StringComparison.Ordinal)).Tensors;
        if (tensors.Count == 0 && Weights == EncoderWeights.Teacher)
            throw new BatException(CheckpointPath, "holds no EMA teacher (a run made by `bat import` keeps only the student): read it with --weights student");
        var encoder = new Encoder(Encoder);
        try { Checkpoint.LoadInto(encoder, tensors, prefix, CheckpointPath); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
        encoder.eval();
        foreach (var p in encoder.parameters()) p.requires_grad = false;
        return encoder.to(Devices.Default);
    }
}
