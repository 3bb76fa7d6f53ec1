using System.Buffers.Binary;

namespace Bat.Audio;

/// <summary>Writes mono WAV files atomically: 16-bit PCM (clipped, rounded) or 32-bit IEEE float.</summary>
public static class WavWriter
{
    public static void Write(string path, ReadOnlySpan<float> samples, int sampleRate, int bits = 16) =>
        AtomicFile.WriteAllBytes(path, Encode(samples, sampleRate, bits));

    public static byte[] Encode(ReadOnlySpan<float> samples, int sampleRate, int bits = 16)
    {
        if (bits is not (16 or 32)) throw new ArgumentException($"WAV bits must be 16 (PCM) or 32 (float), not {bits}", nameof(bits));
        if (sampleRate <= 0) throw new ArgumentException($"sample rate must be positive, not {sampleRate}", nameof(sampleRate));
        int width = bits / 8;
        long dataBytes = (long)samples.Length * width;
        if (dataBytes + 44 > uint.MaxValue) throw new ArgumentException("too many samples for one WAV file (4 GiB limit)");
        var bytes = new byte[44 + dataBytes];
        var s = bytes.AsSpan();
        "RIFF"u8.CopyTo(s);
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], (uint)(36 + dataBytes));
        "WAVE"u8.CopyTo(s[8..]);
        "fmt "u8.CopyTo(s[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(s[20..], (ushort)(bits == 16 ? 1 : 3));
        BinaryPrimitives.WriteUInt16LittleEndian(s[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(s[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(s[28..], (uint)(sampleRate * width));
        BinaryPrimitives.WriteUInt16LittleEndian(s[32..], (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(s[34..], (ushort)bits);
        "data"u8.CopyTo(s[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[40..], (uint)dataBytes);
        var body = s[44..];
        for (int i = 0; i < samples.Length; i++)
        {
            if (bits == 32) BinaryPrimitives.WriteSingleLittleEndian(body[(i * 4)..], samples[i]);
            else
            {
                // The inverse of the reader's x / 32768, clipped to the 16-bit range (NaN becomes 0).
                double v = float.IsNaN(samples[i]) ? 0 : Math.Round(samples[i] * 32768.0);
                BinaryPrimitives.WriteInt16LittleEndian(body[(i * 2)..], (short)Math.Clamp(v, short.MinValue, short.MaxValue));
            }
        }
        return bytes;
    }
}
