using System.Buffers.Binary;

namespace Bat.Tests.Data;

/// <summary>Test-side WAV writer, independent of the library's, plus temp-folder helpers.</summary>
internal static class TestAudio
{
    public static void WritePcm16(string path, float[] samples, int sampleRate, int channels = 1)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var w = new BinaryWriter(File.Create(path));
        int bytes = samples.Length * 2;
        w.Write("RIFF"u8); w.Write(36 + bytes); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write((short)1); w.Write((short)channels); w.Write(sampleRate);
        w.Write(sampleRate * 2 * channels); w.Write((short)(2 * channels)); w.Write((short)16);
        w.Write("data"u8); w.Write(bytes);
        foreach (var s in samples) w.Write((short)Math.Clamp(Math.Round(s * 32767.0), -32768, 32767));
    }

    public static void WriteFloat32(string path, float[] samples, int sampleRate)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var w = new BinaryWriter(File.Create(path));
        int bytes = samples.Length * 4;
        w.Write("RIFF"u8); w.Write(36 + bytes); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write((short)3); w.Write((short)1); w.Write(sampleRate);
        w.Write(sampleRate * 4); w.Write((short)4); w.Write((short)32);
        w.Write("data"u8); w.Write(bytes);
        foreach (var s in samples) w.Write(s);
    }

    /// <summary>Reads back a 16-bit mono PCM file written by anyone (header checked).</summary>
    public static (short[] Samples, int Rate) ReadPcm16(string path)
    {
        var b = File.ReadAllBytes(path);
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(b, 0, 4));
        Assert.Equal(1, BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(20)));
        Assert.Equal(16, BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(34)));
        int rate = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(24));
        int n = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(40)) / 2;
        var s = new short[n];
        for (int i = 0; i < n; i++) s[i] = BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(44 + 2 * i));
        return (s, rate);
    }

    public static float[] Sine(double freq, double seconds, int rate, double amp = 0.5) =>
        Enumerable.Range(0, (int)(seconds * rate)).Select(i => (float)(amp * Math.Sin(2 * Math.PI * freq * i / rate))).ToArray();
}

/// <summary>A temp folder deleted after the test.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "bat-test-" + Guid.NewGuid().ToString("N")[..8]);
    public TempDir() => Directory.CreateDirectory(Path);
    public string this[string relative] => System.IO.Path.Combine(Path, relative);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
