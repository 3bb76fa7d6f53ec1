using System.Text.Json;
using Bat.Audio;
using Bat.Frontends;
using Bat.Tests.Audio;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Bat.Tests.Frontends;

/// <summary>
/// The frontends against torchaudio 0.13 (fixtures: tests/fixtures/frontends/make_fixtures.py), run from the
/// committed WAV files through AudioReader.Load (which resamples the 44.1 kHz clip) to features.
/// </summary>
public class FrontendTests(ITestOutputHelper output)
{
    static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "fixtures", "frontends");

    public sealed record Case(string Clip, string Kind, int MelBins, string Stage, int? TargetFrames, string? Norm, string File, int Frames);

    static IReadOnlyList<Case> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "cases.json")));
        return doc.RootElement.GetProperty("cases").Deserialize<List<Case>>(Json.Options)!;
    }

    public static TheoryData<string> CaseFiles()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases()) data.Add(c.File);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseFiles))]
    public void MatchesTorchaudio(string file)
    {
        var c = Cases().Single(x => x.File == file);
        var clip = AudioReader.Load(Path.Combine(Dir, c.Clip));
        using var scope = NewDisposeScope();
        var wave = tensor(clip.Samples).unsqueeze(0);                                   // (1, samples)
        Tensor features = (c.Stage, c.Kind) switch
        {
            ("db", _) => new BatFrontend(FrontendConfig.For(c.Kind, c.MelBins)).Decibels(wave),
            ("log", _) => new KaldiFrontend(FrontendConfig.Unnormalised(c.Kind, c.MelBins)).LogFbank(wave),
            _ => Frontend.Create(FrontendConfig.For(c.Kind, c.MelBins, c.TargetFrames, c.Norm)).Compute(wave).squeeze(1),
        };                                                                              // (1, T, M)
        var expected = ResamplerTests.ReadBin(Path.Combine(Dir, c.File));
        Assert.Equal(new long[] { 1, c.Frames, c.MelBins }, features.shape);
        var actual = features.data<float>().ToArray();
        double maxErr = actual.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{c.File}: max abs error {maxErr:E2}");
        Console.WriteLine($"frontend {c.File}: max abs error vs torchaudio {maxErr:E2}");
        Assert.True(maxErr <= 1e-3, $"{c.File}: max abs error {maxErr:E2}");
    }

    [Theory]
    [InlineData("bat", 64)]
    [InlineData("kaldi", 128)]
    [InlineData("kaldi-beats", 128)]
    public void BatchIsComputedPerExample(string kind, int melBins)
    {
        // Two different clips in one batch give what each gives alone: means, maxima and min-max are per example.
        using var scope = NewDisposeScope();
        var a = AudioReader.Load(Path.Combine(Dir, "speech.wav")).Samples;
        var b = AudioReader.Load(Path.Combine(Dir, "sweep.wav")).Samples.Select(s => 0.1f * s + 0.05f).ToArray();
        Assert.Equal(a.Length, b.Length);
        var config = kind == "bat" ? FrontendConfig.For(kind, melBins, 80) : FrontendConfig.For(kind, melBins, 80, "audioset");
        var frontend = Frontend.Create(config);
        var both = frontend.Compute(Frontend.Stack([a, b]));
        Assert.Equal(new long[] { 2, 1, 80, melBins }, both.shape);
        var alone = cat([frontend.Compute(tensor(a).unsqueeze(0)), frontend.Compute(tensor(b).unsqueeze(0))], 0);
        Assert.True(both.allclose(alone, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void BatFrontendScalesToUnitRangeAndPadsWithZeros()
    {
        using var scope = NewDisposeScope();
        var x = AudioReader.Load(Path.Combine(Dir, "noise.wav")).Samples;             // 0.5 s -> 51 frames
        var features = Frontend.Create(FrontendConfig.For("bat", 128, 60)).Compute(tensor(x));
        Assert.Equal(new long[] { 1, 1, 60, 128 }, features.shape);
        Assert.Equal(0f, features[.., .., ..51].min().item<float>(), 6);
        Assert.Equal(1f, features[.., .., ..51].max().item<float>(), 6);
        Assert.Equal(0f, features[.., .., 51..].abs().max().item<float>());
    }

    [Fact]
    public void KaldiFrameCountFollowsSnipEdges()
    {
        // 10 s at 16 kHz gives 1 + (160000 - 400) / 160 = 998 frames (docs/method.md section 1).
        using var scope = NewDisposeScope();
        var k = new KaldiFrontend(FrontendConfig.Unnormalised("kaldi", 64));
        Assert.Equal(998, k.LogFbank(randn(1, 160000)).shape[1]);
        Assert.Equal(0, k.LogFbank(randn(2, 399)).shape[1]);
        // Padding a short clip to the target fills with zeros *before* normalisation, as EAT does.
        var norm = FrontendConfig.For("kaldi", 128, 10, "esc50");
        var padded = Frontend.Create(norm).Compute(zeros(1, 399));
        Assert.True(padded.allclose(full_like(padded, (0 - norm.NormMean!.Value) / (2 * norm.NormStd!.Value))));
    }

    [Fact]
    public void KaldiMelBanksMatchAHandComputedBin()
    {
        // Bin 0 of 23 from 20 Hz to 8 kHz at FFT bin k (31.25 Hz each): triangle in Kaldi mel between
        // mel(20) and mel(20) + 2 delta, delta = (mel(8000) - mel(20)) / 24.
        var banks = MelBanks.Kaldi(23, 512, 16000, 20, 0);
        double Mel(double f) => 1127 * Math.Log(1 + f / 700);
        double lo = Mel(20), delta = (Mel(8000) - Mel(20)) / 24;
        for (int k = 0; k < 257; k++)
        {
            double m = Mel(31.25 * k);
            double expected = k == 256 ? 0 : Math.Max(0, Math.Min((m - lo) / delta, (lo + 2 * delta - m) / delta));
            Assert.Equal(expected, banks[k], 1e-5);   // float32 weights
        }
    }

    [Fact]
    public void MissingNormalisationConstantsAreExplained()
    {
        var e = Assert.Throws<BatException>(() => FrontendConfig.For("kaldi", 64, null, "audioset"));
        Assert.Contains("no 'kaldi' normalisation constants named 'audioset' for 64 mel bins", e.Message);
        Assert.Contains("bat stats", e.Message);
        Assert.Throws<ArgumentException>(() => FrontendConfig.For("mfcc"));
    }
}
