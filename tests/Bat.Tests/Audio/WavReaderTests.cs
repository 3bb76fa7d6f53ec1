using Bat.Audio;
using static Bat.Tests.Audio.TestWav;

namespace Bat.Tests.Audio;

public class WavReaderTests
{
    static AudioClip Parse(byte[] file) => WavReader.Parse(file, "test.wav");

    [Fact]
    public void Pcm16MapsIntegersToUnitRange()
    {
        var clip = Parse(Riff(Fmt(1, 1, 16000, 16), Chunk("data", Int16(0, 16384, -32768, 32767))));
        Assert.Equal(16000, clip.SampleRate);
        Assert.Equal(new[] { 0f, 0.5f, -1f, 32767f / 32768f }, clip.Samples);
    }

    [Fact]
    public void Pcm8IsUnsignedAroundMidpoint()
    {
        var clip = Parse(Riff(Fmt(1, 1, 8000, 8), Chunk("data", [128, 0, 192, 255])));
        Assert.Equal(new[] { 0f, -1f, 0.5f, 127f / 128f }, clip.Samples);
    }

    [Fact]
    public void Pcm24SignExtends()
    {
        // 0x400000 = 2^22 -> 0.5; 0x800000 = -2^23 -> -1; 0xFFFFFF = -1 -> -2^-23.
        byte[] data = [0x00, 0x00, 0x40, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0xFF];
        var clip = Parse(Riff(Fmt(1, 1, 48000, 24), Chunk("data", data)));
        Assert.Equal(new[] { 0.5f, -1f, -1f / 8388608f }, clip.Samples);
    }

    [Fact]
    public void Pcm32AndFloat64Decode()
    {
        var pcm32 = new[] { 1 << 30, int.MinValue }.SelectMany(BitConverter.GetBytes).ToArray();
        Assert.Equal(new[] { 0.5f, -1f }, Parse(Riff(Fmt(1, 1, 16000, 32), Chunk("data", pcm32))).Samples);
        var f64 = new[] { 0.25, -0.125 }.SelectMany(BitConverter.GetBytes).ToArray();
        Assert.Equal(new[] { 0.25f, -0.125f }, Parse(Riff(Fmt(3, 1, 16000, 64), Chunk("data", f64))).Samples);
    }

    [Fact]
    public void ChannelsAreAveragedToMono()
    {
        // Three channels per frame: (0.5, -0.25, 0.25) -> 1/6; (1, 1, -0.5) -> 0.5.
        var clip = Parse(Riff(Fmt(3, 3, 22050, 32), Chunk("data", Float32(0.5f, -0.25f, 0.25f, 1f, 1f, -0.5f))));
        Assert.Equal(2, clip.Samples.Length);
        Assert.Equal(1 / 6.0, clip.Samples[0], 6);
        Assert.Equal(0.5, clip.Samples[1], 6);
    }

    [Fact]
    public void ExtensibleUsesSubFormat()
    {
        var pcm = Parse(Riff(Fmt(0, 2, 16000, 16, PcmSubFormat), Chunk("data", Int16(16384, 0))));
        Assert.Equal(new[] { 0.25f }, pcm.Samples);
        var flt = Parse(Riff(Fmt(0, 1, 16000, 32, FloatSubFormat), Chunk("data", Float32(0.75f))));
        Assert.Equal(new[] { 0.75f }, flt.Samples);
    }

    [Fact]
    public void UnknownAndOddSizedChunksAreSkipped()
    {
        // A 3-byte LIST chunk (padded to 4) before fmt, and a 5-byte chunk between fmt and data.
        var file = Riff(Chunk("LIST", [1, 2, 3]), Fmt(1, 1, 16000, 16), Chunk("junk", [9, 9, 9, 9, 9]),
                        Chunk("data", Int16(-16384)));
        Assert.Equal(12 + (8 + 3 + 1) + (8 + 16) + (8 + 5 + 1) + (8 + 2), file.Length);  // both pad bytes are there
        Assert.Equal(new[] { -0.5f }, Parse(file).Samples);
    }

    [Fact]
    public void TruncatedHeaderIsReported()
    {
        var full = Riff(Fmt(1, 1, 16000, 16), Chunk("data", Int16(1, 2)));
        var e = Assert.Throws<BatException>(() => Parse(full[..10]));
        Assert.Equal("test.wav: truncated header: 10 bytes, a WAV header needs at least 12", e.Message);
        e = Assert.Throws<BatException>(() => Parse(full[..20]));   // fmt chunk cut off
        Assert.StartsWith("test.wav: truncated header", e.Message);
    }

    [Fact]
    public void DataChunkLongerThanFileIsReported()
    {
        var full = Riff(Fmt(1, 1, 16000, 16), Chunk("data", Int16(1, 2, 3, 4)));
        var e = Assert.Throws<BatException>(() => Parse(full[..^4]));
        Assert.Equal("test.wav: the data chunk claims 8 bytes but only 4 remain in the file (truncated?)", e.Message);
    }

    [Fact]
    public void UnsupportedEncodingsAreNamed()
    {
        var adpcm = Assert.Throws<BatException>(() => Parse(Riff(Fmt(2, 1, 16000, 4), Chunk("data", [0, 0]))));
        Assert.Contains("unsupported encoding: Microsoft ADPCM (format tag 2)", adpcm.Message);
        var pcm12 = Assert.Throws<BatException>(() => Parse(Riff(Fmt(1, 1, 16000, 12), Chunk("data", [0, 0]))));
        Assert.Contains("unsupported encoding: 12-bit PCM", pcm12.Message);
        var f16 = Assert.Throws<BatException>(() => Parse(Riff(Fmt(3, 1, 16000, 16), Chunk("data", [0, 0]))));
        Assert.Contains("unsupported encoding: 16-bit IEEE float", f16.Message);
        var odd = Assert.Throws<BatException>(() =>
            Parse(Riff(Fmt(0, 1, 16000, 16, new Guid("6dba3190-67bd-11cf-a0f7-0020afd156e4")), Chunk("data", [0, 0]))));
        Assert.Contains("unsupported encoding: WAVE_FORMAT_EXTENSIBLE sub-format", odd.Message);
    }

    [Fact]
    public void ZeroSamplesIsReported()
    {
        var e = Assert.Throws<BatException>(() => Parse(Riff(Fmt(1, 1, 16000, 16), Chunk("data", []))));
        Assert.Equal("test.wav: zero samples: the data chunk is empty", e.Message);
    }

    [Fact]
    public void NotRiffWaveIsReported()
    {
        var e = Assert.Throws<BatException>(() => Parse("ID3\u0004 this is an mp3, not a wav"u8.ToArray()));
        Assert.Contains("not a RIFF/WAVE file", e.Message);
        var avi = Riff(Fmt(1, 1, 16000, 16));
        "AVI "u8.CopyTo(avi.AsSpan(8));
        Assert.Contains("not a RIFF/WAVE file", Assert.Throws<BatException>(() => Parse(avi)).Message);
    }

    [Fact]
    public void MissingDataOrFmtChunkIsReported()
    {
        Assert.Contains("no data chunk", Assert.Throws<BatException>(() => Parse(Riff(Fmt(1, 1, 16000, 16)))).Message);
        Assert.Contains("before the fmt chunk", Assert.Throws<BatException>(() => Parse(Riff(Chunk("data", Int16(1))))).Message);
    }

    [Fact]
    public void WriterRoundTripsThroughReader()
    {
        using var dir = new TempDir();
        float[] x = [0f, 0.5f, -1f, 0.25f, 0.999f, -0.3f];
        WavWriter.Write(dir.File("a.wav"), x, 22050, bits: 32);
        var f = WavReader.Read(dir.File("a.wav"));
        Assert.Equal(22050, f.SampleRate);
        Assert.Equal(x, f.Samples);
        WavWriter.Write(dir.File("b.wav"), x, 16000);
        var p = WavReader.Read(dir.File("b.wav"));
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i], p.Samples[i], 1.0 / 65536);
        // Values outside [-1, 1) clip to the 16-bit range instead of wrapping around.
        WavWriter.Write(dir.File("c.wav"), [2f, -2f], 16000);
        Assert.Equal(new[] { 32767f / 32768f, -1f }, WavReader.Read(dir.File("c.wav")).Samples);
        Assert.Single(Directory.GetFiles(dir.Path, "c.wav*"));   // no temporary file left behind
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(999u)]
    [InlineData(4_000_000_000u)]
    public void AnAbsurdSampleRateIsRefusedBeforeDecoding(uint rate)
    {
        var file = Riff(Fmt(1, 1, 16000, 16), Chunk("data", Int16(1, 2)));
        BitConverter.GetBytes(rate).CopyTo(file, 24);
        var e = Assert.Throws<BatException>(() => Parse(file));
        Assert.Contains($"test.wav: sample rate {rate} Hz is outside", e.Message);
    }

    [Fact]
    public void AnOddRateThatWouldNeedAHugeResamplingTableIsRefusedNamingTheFile()
    {
        using var dir = new Bat.Tests.Data.TempDir();
        Bat.Tests.Data.TestAudio.WritePcm16(dir["odd.wav"], Bat.Tests.Data.TestAudio.Sine(440, 0.1, 16001), 16001);
        var e = Assert.Throws<BatException>(() => AudioReader.Load(dir["odd.wav"]));
        Assert.Contains("odd.wav: sample rate 16001 Hz cannot be resampled", e.Message);
        Assert.True(Resampler.KernelFloats(44100, 16000) < Resampler.MaxKernelFloats);
        Assert.True(Resampler.KernelFloats(44056, 16000) < Resampler.MaxKernelFloats);
    }
}
