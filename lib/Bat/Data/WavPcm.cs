using System.Buffers.Binary;

namespace Bat.Data;

/// <summary>
/// Minimal WAV I/O for the data area until Bat.Audio (AudioReader / WavWriter) is merged: 16-bit PCM mono
/// writing, and reading of PCM 16/24/32-bit and float32 (channels averaged to mono).
/// </summary>
internal static class WavPcm
{
    public static byte[] Encode16(ReadOnlySpan<float> samples, int sampleRate)
    {
        int dataBytes = samples.Length * 2;
        var bytes = new byte[44 + dataBytes];
        var span = bytes.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], 36 + dataBytes);
        "WAVE"u8.CopyTo(span[8..]);
        "fmt "u8.CopyTo(span[12..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1);          // PCM
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1);          // mono
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], sampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], dataBytes);
        for (int i = 0; i < samples.Length; i++)
        {
            // Round to nearest and saturate: 1.0 maps to 32767, -1.0 to -32768.
            float s = Math.Clamp(samples[i], -1f, 1f) * 32768f;
            short v = (short)Math.Clamp(MathF.Round(s), short.MinValue, short.MaxValue);
            BinaryPrimitives.WriteInt16LittleEndian(span[(44 + 2 * i)..], v);
        }
        return bytes;
    }

    public static void Write16(string path, ReadOnlySpan<float> samples, int sampleRate) =>
        AtomicFile.WriteAllBytes(path, Encode16(samples, sampleRate));

    public static (float[] Samples, int SampleRate) Read(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "audio file not found");
        var b = File.ReadAllBytes(path);
        if (b.Length < 12 || !b.AsSpan(0, 4).SequenceEqual("RIFF"u8) || !b.AsSpan(8, 4).SequenceEqual("WAVE"u8))
            throw new BatException(path, "not a RIFF/WAVE file");
        int pos = 12, format = 0, channels = 0, rate = 0, bits = 0;
        while (pos + 8 <= b.Length)
        {
            var id = b.AsSpan(pos, 4);
            int size = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(pos + 4));
            int body = pos + 8;
            if (id.SequenceEqual("fmt "u8))
            {
                format = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(body));
                channels = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(body + 2));
                rate = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(body + 4));
                bits = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(body + 14));
                if (format == 0xFFFE && size >= 26) format = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(body + 24));
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (channels <= 0 || rate <= 0) throw new BatException(path, "data chunk before a valid fmt chunk");
                int n = Math.Min(size, b.Length - body);
                return (Decode(path, b.AsSpan(body, n), format, channels, bits), rate);
            }
            pos = body + size + (size & 1);
        }
        throw new BatException(path, "no data chunk");
    }

    static float[] Decode(string path, ReadOnlySpan<byte> data, int format, int channels, int bits)
    {
        int width = bits / 8;
        if (!(format == 1 && bits is 16 or 24 or 32) && !(format == 3 && bits == 32))
            throw new BatException(path, $"unsupported WAV encoding (format {format}, {bits} bits)");
        int frames = data.Length / (width * channels);
        var x = new float[frames];
        for (int f = 0; f < frames; f++)
        {
            float sum = 0;
            for (int c = 0; c < channels; c++)
            {
                var s = data[((f * channels + c) * width)..];
                sum += (format, bits) switch
                {
                    (3, _) => BinaryPrimitives.ReadSingleLittleEndian(s),
                    (_, 16) => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768f,
                    (_, 24) => ((s[0] | (s[1] << 8) | (s[2] << 16)) << 8 >> 8) / 8388608f,
                    _ => BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648f,
                };
            }
            x[f] = sum / channels;
        }
        return x;
    }
}
