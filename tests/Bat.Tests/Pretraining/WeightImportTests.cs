using Bat.Model;
using Bat.Experiments;
using Bat.Pretraining;
using Bat.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Bat.Tests.Pretraining;

/// <summary>
/// The official encoders (BAT's models/vit.py, EAT's data2vec_multi encoder) against ours after `bat import`:
/// tests/fixtures/make_official_encoders.py ran the official classes at a tiny size with seeded random weights
/// and recorded every block's output for a fixed spectrogram.
/// </summary>
public class WeightImportTests
{
    static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "official", name);

    /// <summary>D 64, depth 3, 4 heads, 128 mel x 256 frames (16 x 8 patches), as the fixture script builds them.</summary>
    static readonly WeightImport.Options Tiny = new() { MelBins = 128, Frames = 256, Heads = 4 };

    [Theory]
    [InlineData("bat-tiny.safetensors", "bat-tiny-blocks.pt", WeightImport.BatLayout, true)]
    [InlineData("eat-tiny.pt", "eat-tiny-blocks.pt", WeightImport.EatLayout, false)]
    public void ImportedEncoderMatchesEveryOfficialBlock(string weights, string blocks, string layout, bool gated)
    {
        using var scope = NewDisposeScope();
        var run = Directory.CreateTempSubdirectory("bat-import-").FullName;
        try
        {
            var (imported, _) = WeightImport.ToRunFolder(Fixture(weights), run, Tiny);
            Assert.Equal(layout, imported.Layout);
            Assert.Equal(gated, imported.Encoder.Gated);
            Assert.Equal((64, 3, 4), (imported.Encoder.Dim, imported.Encoder.Depth, imported.Encoder.Heads));
            imported.Dispose();

            var source = CheckpointSource.Resolve(run);
            Assert.Equal(layout == WeightImport.BatLayout ? "bat" : "kaldi", source.Frontend.Kind);
            using var encoder = source.LoadEncoder();
            var reference = PyTorchUnpickler.UnpickleStateDict(Fixture(blocks));
            var input = (Tensor)reference["input"]!;
            using var _ = no_grad();
            using var output = encoder.Forward(input.to(Devices.Default));
            Assert.Equal(3, output.Layers.Count);
            for (int i = 0; i < output.Layers.Count; i++)
            {
                var expected = (Tensor)reference[$"block{i}"]!;
                Assert.Equal(expected.shape, output.Layers[i].shape);
                double error = output.Layers[i].cpu().sub(expected).abs().max().item<float>();
                Assert.True(error < 1e-4, $"{layout} block {i}: max |ours - official| = {error:E2}");
            }
        }
        finally { Directory.Delete(run, recursive: true); }
    }

    [Fact]
    public void LongInputIsEncodedInTheOfficialChunksOfSixtyFourTimePatches()
    {
        // The official extract_features_with_patch_tokens on 1600 frames: chunks of 64 and 36 time patches, each with
        // its own CLS and positions from 0; patch tokens joined along time, CLS averaged (the DCASE 2016 task 2 input).
        using var scope = NewDisposeScope();
        var run = Directory.CreateTempSubdirectory("bat-import-").FullName;
        try
        {
            WeightImport.ToRunFolder(Fixture("bat-tiny.safetensors"), run, Tiny).Item1.Dispose();
            using var encoder = CheckpointSource.Resolve(run).LoadEncoder();
            var reference = PyTorchUnpickler.UnpickleStateDict(Fixture("bat-tiny-long.pt"));
            var input = (Tensor)reference["input"]!;
            var officialPatches = (Tensor)reference["patch_tokens"]!;   // (L, 1, D, T, F)
            var officialCls = (Tensor)reference["cls_tokens"]!;         // (L, 1, D)
            using var _ = no_grad();
            var layers = Bat.Probing.ChunkedEncoding.Layers(encoder, input.to(Devices.Default), chunkFrames: 64 * 16);
            Assert.Equal(3, layers.Count);
            for (int l = 0; l < layers.Count; l++)
            {
                Assert.Equal(new long[] { 1, 1 + 100 * 8, 64 }, layers[l].shape);
                var patches = officialPatches[l].permute(0, 2, 3, 1).reshape(1, 100 * 8, 64);   // (1, D, T, F) -> (1, T*F, D)
                double patchError = layers[l].narrow(1, 1, 800).cpu().sub(patches).abs().max().item<float>();
                double clsError = layers[l].select(1, 0).cpu().sub(officialCls[l]).abs().max().item<float>();
                Assert.True(patchError < 1e-4 && clsError < 1e-4, $"block {l}: max |ours - official| patches {patchError:E2}, CLS {clsError:E2}");
            }
            // Within one chunk it is the plain forward pass.
            var short_ = input.narrow(2, 0, 256).to(Devices.Default);
            using var plain = encoder.Forward(short_);
            var chunked = Bat.Probing.ChunkedEncoding.Layers(encoder, short_, 1024)[^1];
            Assert.Equal(plain.Last.shape, chunked.shape);
            Assert.Equal(0, chunked.sub(plain.Last).abs().max().item<float>());
        }
        finally { Directory.Delete(run, recursive: true); }
    }

    [Fact]
    public void PositionTableKeepsTheOfficialRowOrderNotTheGridMeaning()
    {
        // BAT's table is frequency-major: row n encodes time n mod 64 and frequency n div 64. Token n = t F + f
        // must get row n (what the official model adds), not the row that encodes (t, f).
        using var scope = NewDisposeScope();
        var source = WeightImport.ReadTensors(Fixture("bat-tiny.safetensors"));
        using var imported = WeightImport.Map(source, Tiny, "bat-tiny.safetensors");
        var table = imported.Tensors["pos_table"];        // (64, 8, 64)
        var official = source["pos_embed"][0];            // (512, 64)
        Assert.Equal(new long[] { 64, 8, 64 }, table.shape);
        Assert.True(table[3, 5].equal(official[3 * 8 + 5]).all().item<bool>());
        // Row 3 * 8 + 5 = 29 of the official table encodes time 29, frequency 0: its second half equals row 0's.
        Assert.True(official[29, 32..].equal(official[0, 32..]).all().item<bool>());
        Assert.False(table[3, 5].equal(official[5 * 64 + 3]).all().item<bool>());
    }

    [Fact]
    public void BaseSizeOfficialKeysAndShapesAllMapOntoOurBaseEncoders()
    {
        // base-keys.txt lists the state dicts of the official ViT-B/16 (BAT, gated) and EAT's base encoder.
        using var scope = NewDisposeScope();
        foreach (var layout in new[] { WeightImport.BatLayout, WeightImport.EatLayout })
        {
            var tensors = File.ReadLines(Fixture("base-keys.txt")).Where(l => l.StartsWith(layout + " ", StringComparison.Ordinal))
                .Select(l => l.Split(' ')).ToDictionary(p => p[1], p => empty(p.Skip(2).Select(long.Parse).ToArray()));
            Assert.NotEmpty(tensors);
            using var imported = WeightImport.Map(tensors, new WeightImport.Options(), "base-keys.txt");
            var expected = EncoderConfig.Base with
            {
                Gated = layout == WeightImport.BatLayout,
                MaxTimePatches = layout == WeightImport.BatLayout ? 64 : 768,
            };
            Assert.Equal(expected, imported.Encoder);
            using var ours = new Encoder(expected);
            Assert.Equal(ours.state_dict().Keys.Order(), imported.Tensors.Keys.Order());
            if (layout == WeightImport.BatLayout) Assert.Equal(["head.fc.bias", "head.fc.weight"], imported.Skipped);
        }
    }

    [Fact]
    public void MismatchesAreErrorsNamingTheTensor()
    {
        using var scope = NewDisposeScope();
        var source = WeightImport.ReadTensors(Fixture("bat-tiny.safetensors"));

        var wrongShape = new Dictionary<string, Tensor>(source) { ["blocks.1.mlp.fc2.bias"] = zeros(63) };
        var error = Assert.Throws<BatException>(() => WeightImport.Map(wrongShape, Tiny, "w.safetensors"));
        Assert.Contains("'blocks.1.mlp.fc2.bias'", error.Message);
        Assert.StartsWith("w.safetensors", error.Message);

        var layerScale = new Dictionary<string, Tensor>(source) { ["blocks.0.ls1.s"] = ones(64) };
        error = Assert.Throws<BatException>(() => WeightImport.Map(layerScale, Tiny, "w.safetensors"));
        Assert.Contains("'blocks.0.ls1.s'", error.Message);

        var missing = new Dictionary<string, Tensor>(source);
        missing.Remove("pre_norm.bias");
        error = Assert.Throws<BatException>(() => WeightImport.Map(missing, Tiny, "w.safetensors"));
        Assert.Contains("'pre_norm.bias'", error.Message);

        error = Assert.Throws<BatException>(() => WeightImport.Map(new Dictionary<string, Tensor> { ["x"] = zeros(1) }, Tiny, "w.pt"));
        Assert.Contains("no BAT", error.Message);
    }

    [Fact]
    public void FindsTheStudentEncoderUnderAPrefixAsInBatBasePt()
    {
        // BAT_base.pt keeps the encoder under state_dict.student.encoder. beside the teacher's copy.
        using var scope = NewDisposeScope();
        var source = WeightImport.ReadTensors(Fixture("bat-tiny.safetensors"));
        var nested = new Dictionary<string, Tensor>();
        foreach (var (k, v) in source)
        {
            nested["state_dict.student.encoder." + k] = v;
            nested["state_dict.teacher.encoder." + k] = v.add(1);
        }
        using var imported = WeightImport.Map(nested, Tiny, "BAT_base.pt");
        Assert.Equal("state_dict.student.encoder.", imported.Prefix);
        Assert.True(imported.Tensors["cls_token"].equal(source["cls_token"]).all().item<bool>());
        var error = Assert.Throws<BatException>(() => WeightImport.Map(nested, Tiny with { Prefix = "nope." }, "BAT_base.pt"));
        Assert.Contains("state_dict.teacher.encoder.", error.Message);
    }

    [Fact]
    public void ImportedRunIsWhatNotebooks03And04ProbeWithTheirCheckpointParameter()
    {
        var dir = Directory.CreateTempSubdirectory("bat-import-probe-").FullName;
        try
        {
            var manifests = Bat.Data.Synth.SyntheticBenchmark.Ensure(Path.Combine(dir, "synth"), clips: 12, seed: 1, seconds: 1);
            var run = Path.Combine(dir, "bat-official");
            WeightImport.ToRunFolder(Fixture("bat-tiny.safetensors"), run, Tiny).Encoder.Dispose();

            // The notebooks' Checkpoint parameter: empty keeps notebook 02's variants, else the listed run folders.
            Assert.Equal(["eat", "bat"], OutputLayout.Models("", "eat", "bat"));
            var models = OutputLayout.Models($" {run} ", "eat", "bat");
            Assert.Equal([run], models);
            Assert.Equal("bat-official", OutputLayout.ModelName(models[0]));
            var layout = new OutputLayout(Path.Combine(dir, "out"));
            Assert.Equal(run, layout.RequireRun(models[0]));
            var checkpoint = CheckpointSource.Resolve(layout.RequireRun(models[0]));
            var cache = layout.Embeddings(models[0], manifests.MultiLabel, checkpoint);
            Assert.Contains(Path.Combine("embeddings", "bat-official"), cache);

            var reports = Bat.Probing.ProbeExperiment.Embed(checkpoint, manifests.MultiLabel, cache, ["test"], batchSize: 4);
            Assert.Equal(3 * (1 + 7 * 8) * 64 * 2, reports[0].BytesPerClip); // depth 3, 1 s clips: 7 x 8 patches + CLS, D 64, float16

            var missing = Assert.Throws<BatException>(() => layout.RequireRun(Path.Combine(dir, "nothing")));
            Assert.Contains("bat import", missing.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void UnreadableFilesAreOneLineErrorsNamingTheFile()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "definitely not weights");
            var error = Assert.Throws<BatException>(() => WeightImport.ReadTensors(path));
            Assert.StartsWith(path, error.Message);
            Assert.DoesNotContain('\n', error.Message);
        }
        finally { File.Delete(path); }
    }
}
