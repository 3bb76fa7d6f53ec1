using Bat.Data;
using Bat.Data.Synth;

namespace Bat.Tests.Data;

public class SynthTests
{
    [Fact]
    public void HasAtLeastTwelveDistinctClassesWithShortOnes()
    {
        Assert.True(EventClasses.All.Count >= 12);
        Assert.Equal(EventClasses.All.Count, EventClasses.Names.Distinct().Count());
        Assert.Contains(EventClasses.All, c => c.MaxSeconds < 0.3);
    }

    [Fact]
    public void GeneratedFilesMatchDirectRenderingWhateverTheThreadCount()
    {
        using var dir = new TempDir();
        var config = new SynthConfig(Clips: 20, Seed: 7, Seconds: 1);
        var report = SyntheticBenchmark.Generate(dir.Path, config);
        var multi = Manifest.Load(report.Manifests.MultiLabel, checkAudio: true);
        var single = Manifest.Load(report.Manifests.SingleLabel, checkAudio: true);
        Assert.Equal(TaskKind.Multilabel, multi.Task.Kind);
        Assert.Equal(TaskKind.Multiclass, single.Task.Kind);
        Assert.Equal(20, multi.Entries.Count);
        Assert.Equal(new[] { "train", "valid", "test" }.OrderBy(s => s), multi.Splits.OrderBy(s => s));
        Assert.Equal(14, multi.Split("train").Count);

        // Parallel.For wrote the files; rendering a clip alone must give the same samples (per-clip RNG).
        foreach (int i in new[] { 0, 5, 19 })
        {
            var (audio, events) = SyntheticBenchmark.RenderMultiLabel(config, i);
            var clip = TestAudio.Read(multi.Entries[i].FullPath);
            Assert.Equal(16000, clip.SampleRate);
            Assert.Equal(16000, clip.Samples.Length);
            // 16-bit quantisation: within half a step (plus float rounding) of the rendered sample.
            for (int k = 0; k < audio.Length; k += 97) Assert.True(Math.Abs(clip.Samples[k] - audio[k]) <= 0.5 / 32768 + 1e-6);
            Assert.Equal(events.Select(e => e.Class).OrderBy(c => c), multi.Entries[i].Labels.OrderBy(c => c));
            Assert.InRange(events.Count, 1, 4);
            Assert.All(events, e => Assert.True(e.Onset >= 0 && e.Onset + e.Duration <= 1.0 + 1e-9));
        }
        // Single-label classes are balanced: i mod C.
        Assert.Equal(single.Task.Classes[3], single.Entries[3].Labels[0]);
    }

    [Fact]
    public void SameSeedSameAudioOtherSeedOtherAudio()
    {
        var a = SyntheticBenchmark.RenderMultiLabel(new SynthConfig(10, 1, 1), 3).Audio;
        var b = SyntheticBenchmark.RenderMultiLabel(new SynthConfig(10, 1, 1), 3).Audio;
        var c = SyntheticBenchmark.RenderMultiLabel(new SynthConfig(10, 2, 1), 3).Audio;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.True(a.All(float.IsFinite));
        Assert.True(a.Max(Math.Abs) <= 0.9f + 1e-6f);
    }

    [Fact]
    public void EnsureIsIdempotentAndRegeneratesOnConfigChange()
    {
        using var dir = new TempDir();
        var paths = SyntheticBenchmark.Ensure(dir.Path, 6, 3, 0.5);
        var stamp = File.GetLastWriteTimeUtc(paths.MultiLabel);
        var marker = File.ReadAllText(dir[SyntheticBenchmark.MarkerFile]);
        Thread.Sleep(20);
        Assert.Equal(paths, SyntheticBenchmark.Ensure(dir.Path, 6, 3, 0.5));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(paths.MultiLabel));

        SyntheticBenchmark.Ensure(dir.Path, 9, 3, 0.5);
        Assert.Equal(9, Manifest.Load(paths.MultiLabel).Entries.Count);
        Assert.NotEqual(marker, File.ReadAllText(dir[SyntheticBenchmark.MarkerFile]));
        Assert.False(File.Exists(dir["audio/multilabel/000009.wav"]));
    }

    [Fact]
    public void ConcurrentEnsureCallsProduceOneCompleteBenchmark()
    {
        using var dir = new TempDir();
        var results = new SynthManifests[3];
        Parallel.For(0, 3, i => results[i] = SyntheticBenchmark.Ensure(dir.Path, 8, 5, 0.5));
        Assert.All(results, r => Assert.Equal(results[0], r));
        Assert.Equal(8, Manifest.Load(results[0].MultiLabel, checkAudio: true).Entries.Count);
        Assert.False(File.Exists(dir[".synth.lock"]));
    }

    static double ZeroCrossingRate(float[] x, int from, int to)
    {
        int z = 0;
        for (int i = from + 1; i < to; i++) if ((x[i - 1] < 0) != (x[i] < 0)) z++;
        return (double)z / (to - from);
    }

    [Fact]
    public void ChirpsSweepTheWayTheirNameSays()
    {
        var up = EventClasses.All.Single(c => c.Name == "chirp_up");
        var down = EventClasses.All.Single(c => c.Name == "chirp_down");
        for (int seed = 0; seed < 5; seed++)
        {
            var u = up.Render(new SynthRng(seed), 8000, 16000);
            var d = down.Render(new SynthRng(seed), 8000, 16000);
            // Zero-crossing rate ~ 2 f / fs: the last quarter is much higher (up) / lower (down) than the first.
            Assert.True(ZeroCrossingRate(u, 6000, 8000) > 2 * ZeroCrossingRate(u, 0, 2000));
            Assert.True(ZeroCrossingRate(d, 0, 2000) > 2 * ZeroCrossingRate(d, 6000, 8000));
        }
    }

    [Fact]
    public void NoiseColoursHaveTheExpectedSpectralTilt()
    {
        // Ratio of energy in the first difference (high frequencies) to the signal energy increases
        // from brown to pink to white to blue: for white noise it is exactly 2 in expectation.
        double Tilt(Dsp.NoiseColour c)
        {
            var x = Dsp.Noise(new SynthRng(1), 32000, c, 16000);
            double e = 0, d = 0;
            for (int i = 1; i < x.Length; i++) { e += x[i] * x[i]; d += (x[i] - x[i - 1]) * (x[i] - x[i - 1]); }
            return d / e;
        }
        double brown = Tilt(Dsp.NoiseColour.Brown), pink = Tilt(Dsp.NoiseColour.Pink), white = Tilt(Dsp.NoiseColour.White), blue = Tilt(Dsp.NoiseColour.Blue);
        Assert.InRange(white, 1.9, 2.1);
        Assert.True(brown < pink && pink < white && white < blue, $"{brown} {pink} {white} {blue}");
    }

    [Fact]
    public void BellAndImpactAreDampedSinusoidsWithTheirDecay()
    {
        // Impact: every mode decays within ~90 ms, so the last 40 % of a 0.35 s event is far quieter than the start.
        var impact = EventClasses.All.Single(c => c.Name == "impact").Render(new SynthRng(3), 5600, 16000);
        Assert.True(Dsp.Rms(impact.AsSpan(4000)) < 0.05 * Dsp.Rms(impact.AsSpan(0, 800)));
        // Bell: decay 0.3-1.2 s, so it is still sounding after half a second but weaker than at the start.
        var bell = EventClasses.All.Single(c => c.Name == "bell").Render(new SynthRng(3), 24000, 16000);
        double head = Dsp.Rms(bell.AsSpan(0, 1600)), tail = Dsp.Rms(bell.AsSpan(9600, 1600));
        Assert.True(tail > 0.01 * head && tail < 0.8 * head, $"{head} {tail}");
    }
}
