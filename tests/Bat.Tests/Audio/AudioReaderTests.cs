using System.Diagnostics;
using Bat.Audio;
using static Bat.Tests.Audio.TestWav;

namespace Bat.Tests.Audio;

public class AudioReaderTests
{
    [Fact]
    public void MissingFileIsReported()
    {
        var e = Assert.Throws<BatException>(() => AudioReader.Load("/nonexistent/clip.wav"));
        Assert.Equal("/nonexistent/clip.wav: file not found", e.Message);
    }

    [Fact]
    public void NanAndInfSamplesAreRejected()
    {
        using var dir = new TempDir();
        var nan = Save(dir, "nan.wav", Riff(Fmt(3, 1, 16000, 32), Chunk("data", Float32(0.1f, float.NaN, 0.2f))));
        var e = Assert.Throws<BatException>(() => AudioReader.Load(nan));
        Assert.Equal($"{nan}: sample 1 (at 0 s) is NaN: NaN or Inf samples are not audio", e.Message);
        var inf = Save(dir, "inf.wav", Riff(Fmt(3, 1, 16000, 32), Chunk("data", Float32(0.1f, 0.2f, float.PositiveInfinity))));
        Assert.Contains("sample 2", Assert.Throws<BatException>(() => AudioReader.Load(inf)).Message);
    }

    [Fact]
    public void TextFileNamedWavIsNotRiff()
    {
        using var dir = new TempDir();
        var path = Save(dir, "fake.wav", "hello, I am text"u8.ToArray());
        var e = Assert.Throws<BatException>(() => AudioReader.Read(path));
        Assert.StartsWith($"{path}: not a RIFF/WAVE file", e.Message);
    }

    [Fact]
    public void LoadResamplesToSixteenKilohertz()
    {
        using var dir = new TempDir();
        var x = Enumerable.Range(0, 4410).Select(i => (float)(0.5 * Math.Sin(2 * Math.PI * 440 * i / 44100.0))).ToArray();
        var path = dir.File("tone.wav");
        WavWriter.Write(path, x, 44100, bits: 32);
        var clip = AudioReader.Load(path);
        Assert.Equal(16000, clip.SampleRate);
        Assert.Equal(1600, clip.Samples.Length);
        Assert.Equal(Resampler.Resample(x, 44100, 16000), clip.Samples);
        // The 440 Hz tone survives: compare with the analytic tone away from the edges.
        for (int i = 200; i < 1400; i++) Assert.Equal(0.5 * Math.Sin(2 * Math.PI * 440 * i / 16000.0), clip.Samples[i], 2e-3);
        Assert.Equal(x, AudioReader.Load(path, 44100).Samples);   // already at the asked rate: untouched
    }

    [Fact]
    public void FlacIsDecodedWithFfmpeg()
    {
        using var dir = new TempDir();
        short[] pcm = Enumerable.Range(0, 3000).Select(i => (short)(10000 * Math.Sin(i * 0.05) + 3 * (i % 7))).ToArray();
        // Stereo WAV with channels (v, -v/2): the mono average is v/4 exactly in 16-bit steps.
        var stereo = pcm.SelectMany(v => new[] { (short)(4 * (v / 4)), (short)(-2 * (v / 4)) }).ToArray();
        var wav = Save(dir, "src.wav", Riff(Fmt(1, 2, 16000, 16), Chunk("data", Int16(stereo))));
        var flac = dir.File("clip.flac");
        Run("ffmpeg", "-nostdin", "-v", "error", "-i", wav, flac);
        var clip = AudioReader.Read(flac);
        Assert.Equal(flac, clip.Source);
        Assert.Equal(16000, clip.SampleRate);
        Assert.Equal(WavReader.Read(wav).Samples, clip.Samples);   // FLAC is lossless
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $"bat-decode-{Environment.ProcessId}-*"));
    }

    [Fact]
    public void SoxIsTheFallbackWithoutFfmpeg()
    {
        using var dir = new TempDir();
        var sox = AudioReader.FindTool("sox", Environment.GetEnvironmentVariable("PATH"));
        Assert.NotNull(sox);   // test.sh installs it
        var tools = Directory.CreateDirectory(dir.File("tools")).FullName;
        File.CreateSymbolicLink(Path.Combine(tools, "sox"), sox!);
        short[] pcm = Enumerable.Range(0, 1600).Select(i => (short)(8000 * Math.Sin(i * 0.1))).ToArray();
        var wav = Save(dir, "src.wav", Riff(Fmt(1, 1, 8000, 16), Chunk("data", Int16(pcm))));
        var flac = dir.File("clip.flac");
        Run("ffmpeg", "-nostdin", "-v", "error", "-i", wav, flac);
        var clip = AudioReader.Read(flac, searchPath: tools);   // only sox is visible
        Assert.Equal(8000, clip.SampleRate);
        Assert.Equal(WavReader.Read(wav).Samples, clip.Samples);
    }

    [Fact]
    public void WithoutDecoderTheErrorNamesTheTool()
    {
        using var dir = new TempDir();
        var ogg = Save(dir, "clip.ogg", "OggS and some bytes"u8.ToArray());
        var e = Assert.Throws<BatException>(() => AudioReader.Read(ogg, searchPath: dir.Path));
        Assert.Equal($"{ogg}: decoding '.ogg' files needs ffmpeg (or sox), and neither is on PATH: apt-get install ffmpeg", e.Message);
    }

    [Fact]
    public void UndecodableFileNamesTheDecoder()
    {
        using var dir = new TempDir();
        var bad = Save(dir, "clip.mp3", Enumerable.Repeat((byte)7, 100).ToArray());
        var e = Assert.Throws<BatException>(() => AudioReader.Read(bad));
        Assert.StartsWith($"{bad}: ffmpeg cannot decode it", e.Message);
    }

    static void Run(string tool, params string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{tool} failed: {err}");
    }
}
