using System.Text.Json;
using Bat.Audio;

namespace Bat.Tests.Audio;

public class ResamplerTests
{
    internal static float[] ReadBin(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var x = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, x, 0, bytes.Length);
        return x;
    }

    public static TheoryData<int, int> Cases() => new() { { 44100, 16000 }, { 48000, 16000 }, { 8000, 16000 }, { 22050, 16000 }, { 16000, 22050 } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchaudio(int from, int to)
    {
        // Fixtures: tests/fixtures/audio/make_fixtures.py (torchaudio 0.13 functional.resample, default filter).
        var dir = Path.Combine(AppContext.BaseDirectory, "fixtures", "audio");
        var x = ReadBin(Path.Combine(dir, $"resample-{from}-{to}-in.bin"));
        var expected = ReadBin(Path.Combine(dir, $"resample-{from}-{to}-out.bin"));
        var y = Resampler.Resample(x, from, to);
        Assert.Equal(expected.Length, y.Length);
        double maxErr = y.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        Console.WriteLine($"resample {from}->{to}: max abs error vs torchaudio {maxErr:E2}");
        Assert.True(maxErr < 1e-4, $"{from}->{to}: max abs error {maxErr:E2}");
    }

    [Fact]
    public void RemovesContentAboveTheNewNyquist()
    {
        // A 12 kHz tone at 48 kHz has no place below 8 kHz: after resampling to 16 kHz it must be (nearly) gone
        // rather than aliased to 4 kHz,
        // while a 1 kHz tone keeps its amplitude.
        float[] Tone(double hz) => Enumerable.Range(0, 48000).Select(i => (float)Math.Sin(2 * Math.PI * hz * i / 48000)).ToArray();
        double Rms(float[] v) => Math.Sqrt(v.Skip(1000).Take(14000).Average(s => (double)s * s));
        Assert.True(Rms(Resampler.Resample(Tone(12000), 48000, 16000)) < 3e-3);   // > 47 dB down (torchaudio: 1.3e-3)
        Assert.Equal(Math.Sqrt(0.5), Rms(Resampler.Resample(Tone(1000), 48000, 16000)), 3);
    }

    [Fact]
    public void SameRateIsACopy()
    {
        float[] x = [1, 2, 3];
        var y = Resampler.Resample(x, 16000, 16000);
        Assert.Equal(x, y);
        Assert.NotSame(x, y);
    }
}
