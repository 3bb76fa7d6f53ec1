using Bat.Audio;

namespace Bat.Tests.Data;

/// <summary>Test audio through Bat.Audio's writer and reader, plus temp-folder helpers.</summary>
internal static class TestAudio
{
    public static void WritePcm16(string path, float[] samples, int sampleRate) => WavWriter.Write(path, samples, sampleRate, bits: 16);

    public static void WriteFloat32(string path, float[] samples, int sampleRate) => WavWriter.Write(path, samples, sampleRate, bits: 32);

    public static AudioClip Read(string path) => WavReader.Read(path);

    /// <summary>A tone whose pitch depends on <paramref name="name"/>: distinct files for distinct names (the manifest
    /// check refuses identical audio in two splits as leakage).</summary>
    public static float[] ToneFor(string name, double seconds, int rate)
    {
        uint hash = 2166136261;
        foreach (char c in name) hash = (hash ^ c) * 16777619;   // FNV-1a
        return Sine(100 + hash % 3000, seconds, rate);
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
