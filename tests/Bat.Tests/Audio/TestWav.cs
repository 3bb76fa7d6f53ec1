using System.Buffers.Binary;

namespace Bat.Tests.Audio;

/// <summary>Builds WAV files byte by byte, so the reader is tested against the format, not against our writer.</summary>
internal static class TestWav
{
    public static readonly Guid PcmSubFormat = new("00000001-0000-0010-8000-00aa00389b71");
    public static readonly Guid FloatSubFormat = new("00000003-0000-0010-8000-00aa00389b71");

    public static byte[] Chunk(string id, byte[] body)
    {
        var c = new byte[8 + body.Length + (body.Length & 1)];
        System.Text.Encoding.ASCII.GetBytes(id).CopyTo(c, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(4), (uint)body.Length);
        body.CopyTo(c, 8);
        return c;
    }

    public static byte[] Fmt(int tag, int channels, int rate, int bits, Guid? subFormat = null)
    {
        var f = new byte[subFormat is null ? 16 : 40];
        var s = f.AsSpan();
        int block = channels * bits / 8;
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)(subFormat is null ? tag : 0xFFFE));
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], (uint)rate);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], (uint)(rate * block));
        BinaryPrimitives.WriteUInt16LittleEndian(s[12..], (ushort)block);
        BinaryPrimitives.WriteUInt16LittleEndian(s[14..], (ushort)bits);
        if (subFormat is Guid g)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(s[16..], 22);
            BinaryPrimitives.WriteUInt16LittleEndian(s[18..], (ushort)bits);
            BinaryPrimitives.WriteUInt32LittleEndian(s[20..], channels == 1 ? 4u : 3u);
            g.ToByteArray().CopyTo(f, 24);
        }
        return Chunk("fmt ", f);
    }

    public static byte[] Riff(params byte[][] chunks)
    {
        var body = chunks.SelectMany(c => c).ToArray();
        var file = new byte[12 + body.Length];
        "RIFF"u8.CopyTo(file);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), (uint)(4 + body.Length));
        "WAVE"u8.CopyTo(file.AsSpan(8));
        body.CopyTo(file, 12);
        return file;
    }

    public static byte[] Int16(params short[] v) => v.SelectMany(x => BitConverter.GetBytes(x)).ToArray();
    public static byte[] Float32(params float[] v) => v.SelectMany(x => BitConverter.GetBytes(x)).ToArray();

    public static string Save(TempDir dir, string name, byte[] bytes)
    {
        var path = Path.Combine(dir.Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}

/// <summary>A temporary folder removed at the end of a test.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("bat-test-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
