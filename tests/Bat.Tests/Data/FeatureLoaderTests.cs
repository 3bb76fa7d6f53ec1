using Bat.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Tests.Data;

public class FeatureLoaderTests
{
    const int Hop = 160, Bins = 4;

    /// <summary>Stand-in frontend: per 10 ms frame, mean |x| over 4 sub-blocks of 40 samples -> (B, 1, T, 4).</summary>
    static readonly Featurizer Frames = new("test-frames-v1", x =>
    {
        long b = x.shape[0], t = x.shape[1] / Hop;
        return x.narrow(1, 0, t * Hop).reshape(b, t, Bins, Hop / Bins).abs().mean([-1]).unsqueeze(1);
    });

    /// <summary>A 12-clip multi-class task of 0.5 s clips whose clip i is a constant of amplitude (i+1)/20.</summary>
    static Manifest MakeTask(TempDir dir, double clipSeconds = 0.5, int seconds10 = 5)
    {
        var entries = new List<ManifestEntry>();
        for (int i = 0; i < 12; i++)
        {
            var samples = Enumerable.Repeat((float)((i + 1) / 20.0), seconds10 * 1600).ToArray();
            TestAudio.WritePcm16(dir[$"audio/{i}.wav"], samples, 16000);
            entries.Add(new ManifestEntry($"audio/{i}.wav", [i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c"], i < 10 ? "train" : "test"));
        }
        Manifest.Save(dir["task.csv"], new TaskInfo("t", TaskKind.Multiclass, ["a", "b", "c"], 16000, clipSeconds, "accuracy"), entries);
        return Manifest.Load(dir["task.csv"]);
    }

    static float Amplitude(int index) => (float)Math.Round((index + 1) / 20.0 * 32768) / 32768f;

    [Fact]
    public void EvalBatchesHaveFeaturesTargetsAndFileOrder()
    {
        using var dir = new TempDir();
        var m = MakeTask(dir);
        var loader = new FeatureLoader(m, "train", Frames, LoaderOptions.Eval(4));
        var batches = loader.Epoch().ToList();
        Assert.Equal(3, batches.Count);                         // 10 clips, batch 4, last one partial
        Assert.Equal([4L, 1, 50, Bins], batches[0].Features.shape);
        Assert.Equal([2L, 3], batches[2].Labels.shape);
        Assert.Equal([0, 1, 2, 3], batches[0].Indices);
        // Clip 5: constant amplitude -> every feature equals it; label 5 % 3 = 2 -> one-hot at "c".
        var f = batches[1].Features[1];
        Assert.Equal(Amplitude(5), f.mean().item<float>(), 4);
        Assert.Equal(new float[] { 0, 0, 1 }, batches[1].Labels[1].data<float>().ToArray());
        foreach (var b in batches) b.Dispose();
    }

    [Fact]
    public void TrainingOrderAndCropsAreDeterministicPerSeedAndEpoch()
    {
        using var dir = new TempDir();
        var m = MakeTask(dir, clipSeconds: 0.5);
        var options = LoaderOptions.Train(3, seed: 11, cropFrames: 20) with { MaxShiftFraction = 0.25 };
        int[] Order(FeatureLoader l, int epoch) => l.Epoch(epoch).SelectMany(b => { using (b) return b.Indices; }).ToArray();
        var a = new FeatureLoader(m, "train", Frames, options);
        var b = new FeatureLoader(m, "train", Frames, options);
        Assert.Equal(Order(a, 0), Order(b, 0));
        Assert.NotEqual(Order(a, 0), Order(a, 1));
        Assert.Equal(9, Order(a, 0).Length);                   // drop-last: 3 full batches of 10 clips
        Assert.Equal(9, Order(a, 0).Distinct().Count());
        using var x = a.MakeBatch([0, 1], epoch: 2);
        using var y = b.MakeBatch([0, 1], epoch: 2);
        Assert.Equal([2L, 1, 20, Bins], x.Features.shape);
        Assert.True(x.Features.equal(y.Features).all().item<bool>());
    }

    [Fact]
    public void CropAndPadWorkInFramesAndShortAudioIsZeroPadded()
    {
        using var dir = new TempDir();
        var m = MakeTask(dir, clipSeconds: 0.8, seconds10: 5);   // 0.5 s of audio in a 0.8 s clip -> 30 silent frames
        var loader = new FeatureLoader(m, "test", Frames, LoaderOptions.Eval(2, cropFrames: 100));
        using var batch = loader.Epoch().Single();
        Assert.Equal([2L, 1, 100, Bins], batch.Features.shape);
        var frameMeans = batch.Features[0, 0].mean([1]).data<float>().ToArray();
        Assert.All(frameMeans.Take(50), v => Assert.Equal(Amplitude(10), v, 4));
        Assert.All(frameMeans.Skip(50), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void CacheReturnsTheSameFeaturesWithoutRecomputing()
    {
        using var dir = new TempDir();
        var m = MakeTask(dir);
        int calls = 0;
        var counting = new Featurizer(Frames.Key, x => { Interlocked.Increment(ref calls); return Frames.Compute(x); });
        foreach (var half in new[] { false, true })
        {
            calls = 0;
            var options = LoaderOptions.Eval(5) with { CacheDir = dir[$"cache{half}"], CacheFloat16 = half };
            var first = new FeatureLoader(m, "train", counting, options).Epoch().ToList();
            Assert.Equal(2, calls);
            var second = new FeatureLoader(m, "train", counting, options).Epoch().ToList();
            Assert.Equal(2, calls);                              // all hits
            for (int i = 0; i < 2; i++)
                Assert.True(first[i].Features.allclose(second[i].Features, rtol: half ? 1e-3 : 0, atol: half ? 1e-4 : 0));
            foreach (var b in first.Concat(second)) b.Dispose();
        }
        // A different featurizer key must not hit the cache of another.
        calls = 0;
        var other = new Featurizer("other", x => { Interlocked.Increment(ref calls); return Frames.Compute(x); });
        foreach (var b in new FeatureLoader(m, "train", other, LoaderOptions.Eval(5) with { CacheDir = dir["cacheFalse"] }).Epoch()) b.Dispose();
        Assert.Equal(2, calls);
    }

    [Fact]
    public void ColourNoiseChangesTheFeaturesEveryEpochAndBypassesTheCache()
    {
        using var dir = new TempDir();
        var m = MakeTask(dir);
        int calls = 0;
        var counting = new Featurizer(Frames.Key, x => { Interlocked.Increment(ref calls); return Frames.Compute(x); });
        var clean = LoaderOptions.Eval(5) with { CacheDir = dir["cache"] };
        var noisy = clean with { ColourNoiseChance = 1.0 };
        Batch Make(LoaderOptions options, int epoch) => new FeatureLoader(m, "train", counting, options).MakeBatch([0, 1], epoch);
        using var reference = Make(clean, 0);                    // fills the cache
        calls = 0;
        using var a = Make(noisy, 0);
        using var again = Make(noisy, 0);
        using var b = Make(noisy, 1);
        Assert.Equal(3, calls);                                  // computed from the waveform each time, never from the cache
        Assert.False(a.Features.allclose(reference.Features));   // noise reached the features
        Assert.True(a.Features.eq(again.Features).all().item<bool>());   // same seed and epoch: same noise
        Assert.False(a.Features.allclose(b.Features));           // another epoch: other noise
        using var fromCache = Make(clean, 0);
        Assert.True(fromCache.Features.eq(reference.Features).all().item<bool>());   // the cache still holds the clean features
    }

    [Fact]
    public void MissingFileNamesManifestLineAndFile()
    {
        using var dir = new TempDir();
        var m = MakeTask(dir);
        File.Delete(dir["audio/7.wav"]);
        var loader = new FeatureLoader(m, "train", Frames, LoaderOptions.Eval(4));
        var e = Assert.Throws<BatException>(() => { foreach (var b in loader.Epoch()) b.Dispose(); });
        Assert.Contains("task.csv", e.Message);
        Assert.Contains("line 9", e.Message);
        Assert.Contains("7.wav", e.Message);
    }

    [Fact]
    public void NanAudioIsRefusedNamingTheFile()
    {
        using var dir = new TempDir();
        var m = MakeTask(dir);
        var samples = TestAudio.Sine(300, 0.5, 16000);
        samples[100] = float.NaN;
        TestAudio.WriteFloat32(dir["audio/2.wav"], samples, 16000);
        var loader = new FeatureLoader(m, "train", Frames, LoaderOptions.Eval(4));
        var e = Assert.Throws<BatException>(() => loader.MakeBatch([2]));
        Assert.Contains("2.wav", e.Message);
        Assert.Contains("NaN", e.Message);
    }

    [Fact]
    public void OtherSampleRatesAreResampledTo16k()
    {
        using var dir = new TempDir();
        var m = MakeTask(dir);
        TestAudio.WritePcm16(dir["audio/3.wav"], Enumerable.Repeat(0.25f, 22050).ToArray(), 44100);   // 0.5 s at 44.1 kHz
        var loader = new FeatureLoader(m, "train", Frames, LoaderOptions.Eval(1));
        using var b = loader.MakeBatch([3]);
        Assert.Equal([1L, 1, 50, Bins], b.Features.shape);
        // A constant survives resampling away from the edges.
        Assert.Equal(0.25f, b.Features[0, 0, 25].mean().item<float>(), 2);
    }

    [Fact]
    public void FrontendFeaturizerUsesItsConfigAsCacheKey()
    {
        var a = Featurizer.From(Bat.Frontends.Frontend.Create(Bat.Frontends.FrontendConfig.Unnormalised("bat", 64)));
        var b = Featurizer.From(Bat.Frontends.Frontend.Create(Bat.Frontends.FrontendConfig.Unnormalised("bat", 128)));
        Assert.NotEqual(a.Key, b.Key);
        using var x = torch.zeros(2, 16000);
        using var y = a.Compute(x);
        Assert.Equal(4, y.dim());
        Assert.Equal(64, y.shape[3]);
    }

    [Fact]
    public void BreakingOutEarlyStopsTheWorker()
    {
        using var dir = new TempDir();
        var m = MakeTask(dir);
        var loader = new FeatureLoader(m, "train", Frames, LoaderOptions.Eval(1) with { Prefetch = 1 });
        foreach (var b in loader.Epoch()) { b.Dispose(); break; }
        Assert.Equal(10, loader.Epoch().Count(b => { b.Dispose(); return true; }));
    }
}
