using System.Collections;
using Bat.Frontends;
using Bat.Model;
using Bat.Training;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Bat.Pretraining;

/// <summary>
/// Imports the encoder of an official release into a run folder of ours (`bat import`): the BAT ViT of
/// houtan-ghaffari/BAT_ICML2026 (models/vit.py: its model.safetensors, or a torch.save file with the same
/// names under any prefix such as "state_dict.student.encoder.") and the data2vec-multi encoder of EAT
/// (cwx-worst-one/EAT, a fairseq checkpoint whose "model" dict holds modality_encoders.IMAGE.* and blocks.*).
///
/// Both official models compute what <see cref="Encoder"/> computes (patch conv, fixed position, CLS, a
/// LayerNorm, post-norm blocks), so the import is a renaming plus the position table. That table is copied,
/// never rebuilt, row for row: token n of the (time-major) patch grid gets row n of the official table. This
/// reproduces the official layouts exactly, whatever they encode: BAT's table is built frequency-major
/// (row n encodes time n mod 64 and frequency n div 64) while its tokens are time-major; EAT's rows are
/// time-major but put the frequency code in the first half of the channels. BAT's ViT runs inputs longer
/// than 64 time patches as separate 64-patch chunks; an imported BAT encoder therefore takes at most 64 time
/// patches (10.24 s at 10 ms frames) instead of silently attending across chunks.
///
/// Any tensor of the official encoder that has no place here (LayerScale, a prenet block, a second CLS, ...)
/// or a shape that does not fit is an error naming the tensor; tensors outside the encoder (heads, decoders,
/// the EMA copy, optimiser state) are skipped and counted.
/// </summary>
public static class WeightImport
{
    public const string BatLayout = "bat", EatLayout = "eat";

    /// <summary>BAT's ViT processes the time axis in chunks of this many patches (models/vit.py, torch.split(x, 64)).</summary>
    public const int BatChunkTimePatches = 64;

    /// <summary>What the official encoder needs that its weights do not say: input size and heads.</summary>
    public sealed record Options
    {
        /// <summary>Mel bins of the official inputs (128 in both papers).</summary>
        public int MelBins { get; init; } = 128;
        /// <summary>Frames of a training clip (1024 = 10.24 s in both papers).</summary>
        public int Frames { get; init; } = 1024;
        /// <summary>Attention heads; null = Dim / 64 (ViT-B: 768 / 64 = 12).</summary>
        public int? Heads { get; init; }
        /// <summary>Key prefix of the encoder in the file; null = found from the keys.</summary>
        public string? Prefix { get; init; }
    }

    /// <summary>The encoder found in a file: its layout, where it sat, our config, and our state dict.</summary>
    public sealed record Imported(string Layout, string Prefix, EncoderConfig Encoder, Dictionary<string, Tensor> Tensors, IReadOnlyList<string> Skipped)
        : IDisposable
    {
        public void Dispose() { foreach (var t in Tensors.Values) t.Dispose(); }
    }

    /// <summary>Every tensor of a safetensors or torch.save (zip) file, nested dicts flattened to dotted names.</summary>
    public static Dictionary<string, Tensor> ReadTensors(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "file not found");
        Span<byte> head = stackalloc byte[9];
        using (var probe = File.OpenRead(path))
            if (probe.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length)
                throw new BatException(path, "file too short to hold weights");
        try
        {
            // torch.save writes a zip ("PK\3\4"); safetensors starts with its JSON header length, then '{'.
            if (head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)
            {
                var flat = new Dictionary<string, Tensor>();
                Flatten(PyTorchUnpickler.UnpickleStateDict(path), "", flat);
                return flat;
            }
            if (head[8] == '{') return Safetensors.LoadStateDict(path);
        }
        catch (Exception e) when (e is not BatException)
        {
            throw new BatException(path, $"cannot read the weights ({e.GetType().Name}: {e.Message})", e);
        }
        throw new BatException(path, "neither a safetensors file nor a torch.save zip archive (legacy torch.save files: re-save with torch >= 1.6)");
    }

    static void Flatten(IDictionary dict, string prefix, Dictionary<string, Tensor> into)
    {
        foreach (DictionaryEntry e in dict)
        {
            if (e.Key is not string key) continue;
            if (e.Value is Tensor t) into[prefix + key] = t;
            else if (e.Value is IDictionary nested) Flatten(nested, prefix + key + ".", into);
            // Other values (configs, step counters, strings) are not weights.
        }
    }

    /// <summary>Finds the official encoder in <paramref name="source"/> and maps it onto our names and config.</summary>
    public static Imported Map(IReadOnlyDictionary<string, Tensor> source, Options options, string file)
    {
        var (layout, prefix) = FindEncoder(source, options.Prefix, file);
        var names = layout == BatLayout ? BatNames : EatNames;
        Tensor Get(string key) => source.TryGetValue(prefix + key, out var t)
            ? t : throw new BatException(file, $"tensor '{prefix + key}' is missing (the {layout} encoder needs it)");

        // What the weights say about the shape.
        var patch = Get(names.PatchWeight);
        if (patch.dim() != 4 || patch.shape[1] != 1 || patch.shape[2] != patch.shape[3])
            throw new BatException(file, $"tensor '{prefix + names.PatchWeight}' has shape ({Shape(patch)}), expected (D, 1, p, p)");
        int dim = (int)patch.shape[0], patchSize = (int)patch.shape[2];
        int depth = 0;
        while (source.ContainsKey($"{prefix}{names.Blocks}{depth}.attn.qkv.weight")) depth++;
        if (depth == 0) throw new BatException(file, $"no transformer blocks under '{prefix}{names.Blocks}'");
        bool gated = source.ContainsKey($"{prefix}{names.Blocks}0.attn.gate.weight");
        var fc1 = Get($"{names.Blocks}0.mlp.fc1.weight");
        if (fc1.shape[0] % dim != 0) throw new BatException(file, $"tensor '{prefix}{names.Blocks}0.mlp.fc1.weight' has {fc1.shape[0]} rows, not a multiple of D = {dim}");
        int heads = options.Heads ?? Math.Max(1, dim / 64);
        if (options.MelBins % patchSize != 0) throw new BatException(file, $"mel bins {options.MelBins} are not a multiple of the patch size {patchSize}");
        int freqPatches = options.MelBins / patchSize;

        var position = Get(names.Position);
        if (position.dim() != 3 || position.shape[0] != 1 || position.shape[2] != dim || position.shape[1] % freqPatches != 0)
            throw new BatException(file, $"tensor '{prefix + names.Position}' has shape ({Shape(position)}), expected (1, T x {freqPatches}, {dim})");
        int tableTime = (int)(position.shape[1] / freqPatches);
        if (layout == BatLayout) tableTime = Math.Min(tableTime, BatChunkTimePatches);

        var config = new EncoderConfig
        {
            MelBins = options.MelBins, Frames = options.Frames, PatchSize = patchSize, Dim = dim, Depth = depth,
            Heads = heads, MlpRatio = (int)(fc1.shape[0] / dim), Gated = gated, LayerNormEps = 1e-6, MaxTimePatches = tableTime,
        };
        try { config.Validate(); }
        catch (BatException e) { throw new BatException(file, $"the imported encoder does not fit: {e.Message}"); }

        // Our name <- official name, for everything but the position table.
        var map = new Dictionary<string, string>
        {
            ["patch_embed.weight"] = names.PatchWeight, ["patch_embed.bias"] = names.PatchBias,
            ["cls_token"] = names.Cls, ["pre_norm.weight"] = names.PreNorm + "weight", ["pre_norm.bias"] = names.PreNorm + "bias",
        };
        for (int i = 0; i < depth; i++)
        {
            string ours = $"blocks.{i}.", theirs = $"{names.Blocks}{i}.";
            foreach (var p in new[] { "weight", "bias" })
            {
                map[$"{ours}attn.qkv.{p}"] = $"{theirs}attn.qkv.{p}";
                map[$"{ours}attn.proj.{p}"] = $"{theirs}attn.proj.{p}";
                if (gated) map[$"{ours}attn.gate.{p}"] = $"{theirs}attn.gate.{p}";
                map[$"{ours}norm1.{p}"] = $"{theirs}norm1.{p}";
                map[$"{ours}norm2.{p}"] = $"{theirs}norm2.{p}";
                map[$"{ours}fc1.{p}"] = $"{theirs}mlp.fc1.{p}";
                map[$"{ours}fc2.{p}"] = $"{theirs}mlp.fc2.{p}";
            }
        }

        // Every tensor of the official encoder must land somewhere; the rest of the file is not the encoder.
        var used = new HashSet<string>(map.Values.Select(v => prefix + v)) { prefix + names.Position };
        var skipped = new List<string>();
        foreach (var key in source.Keys.Order(StringComparer.Ordinal))
        {
            if (used.Contains(key)) continue;
            if (key.StartsWith(prefix, StringComparison.Ordinal) && names.IsEncoder(key[prefix.Length..]))
                throw new BatException(file, $"tensor '{key}' of the {layout} encoder has no counterpart in our encoder (LayerScale, prenet blocks, extra tokens or block {depth}+ are not supported)");
            skipped.Add(key);
        }

        using var reference = new Encoder(config);
        var expected = reference.state_dict();
        var tensors = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (ours, theirs) in map)
            {
                var value = Get(theirs);
                if (!expected.TryGetValue(ours, out var target)) throw new InvalidOperationException($"our encoder has no '{ours}'");
                if (!value.shape.SequenceEqual(target.shape))
                    throw new BatException(file, $"tensor '{prefix + theirs}' has shape ({Shape(value)}), our '{ours}' needs ({Shape(target)})");
                tensors[ours] = value.to_type(ScalarType.Float32).contiguous().clone();
            }
            // Row n of the official table is what token n (time-major: t * F + f) gets: keep the rows in order.
            using (var table = position[0])
            using (var rows = table.narrow(0, 0, tableTime * freqPatches))
                tensors["pos_table"] = rows.to_type(ScalarType.Float32).reshape(tableTime, freqPatches, dim).contiguous().clone();
            var missing = expected.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
            if (missing.Count > 0) throw new InvalidOperationException($"the mapping misses our '{string.Join("', '", missing)}'");
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return new Imported(layout, prefix, config, tensors, skipped);
    }

    /// <summary>
    /// `bat import`: reads <paramref name="file"/>, maps it and writes a run folder that every probe and notebook
    /// loads like one of ours (config.json and checkpoints/step-000000.pt holding the student encoder).
    /// </summary>
    public static (Imported Encoder, string CheckpointPath) ToRunFolder(string file, string runDir, Options options)
    {
        var source = ReadTensors(file);
        try
        {
            var imported = Map(source, options, file);
            var config = new PretrainConfig
            {
                Preset = "imported",
                Variant = imported.Layout == BatLayout ? "bat-official" : "eat-official",
                Encoder = imported.Encoder,
                // The features each official model was trained on: BAT's own frontend, EAT's Kaldi fbank with AudioSet constants.
                Frontend = imported.Layout == BatLayout
                    ? FrontendConfig.For(FrontendConfig.Bat, options.MelBins, options.Frames)
                    : FrontendConfig.For(FrontendConfig.Kaldi, options.MelBins, options.Frames, "audioset"),
                TrainedOn = $"imported {Path.GetFileName(file)} sha256:{FileHash.Sha256(file)[..16]}",
            };
            Json.Save(Checkpoint.ConfigPath(runDir), config);
            var path = Checkpoint.Save(runDir, 0, 0, imported.Tensors.Select(kv => ("student." + kv.Key, kv.Value)));
            return (imported, path);
        }
        finally
        {
            foreach (var t in source.Values) t.Dispose();
        }
    }

    static (string Layout, string Prefix) FindEncoder(IReadOnlyDictionary<string, Tensor> source, string? prefix, string file)
    {
        var candidates = new List<(string Layout, string Prefix)>();
        foreach (var key in source.Keys)
            foreach (var (layout, names) in new[] { (BatLayout, BatNames), (EatLayout, EatNames) })
                if (key.EndsWith(names.PatchWeight, StringComparison.Ordinal))
                    candidates.Add((layout, key[..^names.PatchWeight.Length]));
        if (prefix is not null)
        {
            var chosen = candidates.Where(c => c.Prefix == prefix).ToList();
            if (chosen.Count == 1) return chosen[0];
            throw new BatException(file, $"no encoder under the prefix '{prefix}' (found: {Describe(candidates)})");
        }
        if (candidates.Count == 0)
            throw new BatException(file, $"no BAT ('{BatNames.PatchWeight}') or EAT ('{EatNames.PatchWeight}') encoder among its {source.Count} tensors");
        if (candidates.Count == 1) return candidates[0];
        // A pre-training checkpoint also holds the EMA teacher; the student is what both papers release for probing.
        var students = candidates.Where(c => !c.Prefix.Contains("_ema") && !c.Prefix.Contains("teacher")).ToList();
        if (students.Count > 1) students = students.Where(c => c.Prefix.Contains("student")).ToList();
        if (students.Count == 1) return students[0];
        throw new BatException(file, $"several encoders ({Describe(candidates)}): choose one with --prefix");
    }

    static string Describe(List<(string Layout, string Prefix)> candidates) =>
        candidates.Count == 0 ? "none" : string.Join(", ", candidates.Select(c => $"{c.Layout} at '{c.Prefix}'"));

    static string Shape(Tensor t) => string.Join(", ", t.shape);

    /// <summary>Where each part of the encoder sits in an official state dict, relative to the encoder's prefix.</summary>
    sealed record OfficialNames(string PatchWeight, string PatchBias, string Position, string Cls, string PreNorm, string Blocks, Func<string, bool> IsEncoder);

    /// <summary>models/vit.py ViT (and ssl.py's ViT_MaskedEncoder): the head and anything else is not the encoder.</summary>
    static readonly OfficialNames BatNames = new("patch_embed.proj.weight", "patch_embed.proj.bias", "pos_embed", "cls_token", "pre_norm.", "blocks.",
        key => key.StartsWith("patch_embed.", StringComparison.Ordinal) || key.StartsWith("blocks.", StringComparison.Ordinal)
               || key.StartsWith("pre_norm.", StringComparison.Ordinal) || key is "pos_embed" or "cls_token");

    /// <summary>EAT's Data2VecMultiModel: modality_encoders.IMAGE (patch conv, positions, CLS, LayerNorm) + blocks; the decoder is not the encoder.</summary>
    static readonly OfficialNames EatNames = new("modality_encoders.IMAGE.local_encoder.proj.weight", "modality_encoders.IMAGE.local_encoder.proj.bias",
        "modality_encoders.IMAGE.fixed_positional_encoder.positions", "modality_encoders.IMAGE.extra_tokens",
        "modality_encoders.IMAGE.context_encoder.norm.", "blocks.",
        key => key.StartsWith("blocks.", StringComparison.Ordinal)
               || (key.StartsWith("modality_encoders.IMAGE.", StringComparison.Ordinal) && !key.StartsWith("modality_encoders.IMAGE.decoder.", StringComparison.Ordinal)));
}
