using System.Buffers.Binary;

namespace Bat.Audio;

/// <summary>
/// Reads RIFF/WAVE files by hand: PCM 8/16/24/32-bit, IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE (the real
/// encoding is in its sub-format GUID), any channel count (averaged to mono), unknown chunks skipped, odd-sized
/// chunks padded to an even length as RIFF requires. Every malformed input is a <see cref="BatException"/>.
/// </summary>
public static class WavReader
{
    const ushort FormatPcm = 1, FormatFloat = 3, FormatExtensible = 0xFFFE;

    // Every KSDATAFORMAT_SUBTYPE_* GUID ends in these 14 bytes; its first two bytes are the plain format tag.
    static readonly byte[] SubFormatTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];

    /// <summary>True when the bytes start like a RIFF/WAVE file (used to pick the decoder).</summary>
    public static bool LooksLikeWav(ReadOnlySpan<byte> head) =>
        head.Length >= 12 && head[..4].SequenceEqual("RIFF"u8) && head[8..12].SequenceEqual("WAVE"u8);

    public static AudioClip Read(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "file not found");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BatException(path, $"cannot read: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses a whole WAV file held in memory; <paramref name="name"/> is used in error messages.</summary>
    public static AudioClip Parse(ReadOnlySpan<byte> file, string name)
    {
        if (file.Length < 12) throw new BatException(name, $"truncated header: {file.Length} bytes, a WAV header needs at least 12");
        if (!LooksLikeWav(file)) throw new BatException(name, "not a RIFF/WAVE file (it does not start with 'RIFF....WAVE')");

        Format? format = null;
        int pos = 12;
        while (pos + 8 <= file.Length)
        {
            var id = System.Text.Encoding.ASCII.GetString(file.Slice(pos, 4));
            long size = BinaryPrimitives.ReadUInt32LittleEndian(file.Slice(pos + 4, 4));
            int body = pos + 8;
            long remaining = file.Length - body;
            if (id == "fmt ")
            {
                if (size > remaining) throw new BatException(name, $"truncated header: the fmt chunk claims {size} bytes but only {remaining} remain");
                format = ParseFormat(file.Slice(body, (int)size), name);
            }
            else if (id == "data")
            {
                if (format is null) throw new BatException(name, "the data chunk comes before the fmt chunk");
                if (size > remaining)
                    throw new BatException(name, $"the data chunk claims {size} bytes but only {remaining} remain in the file (truncated?)");
                return Decode(file.Slice(body, (int)size), format, name);
            }
            else if (size > remaining)
            {
                throw new BatException(name, $"truncated file: the '{Printable(id)}' chunk claims {size} bytes but only {remaining} remain");
            }
            // RIFF chunks are word-aligned: an odd-sized chunk is followed by one pad byte.
            pos = checked(body + (int)size + (int)(size & 1));
        }
        if (format is null) throw new BatException(name, "truncated header: no fmt chunk found");
        throw new BatException(name, "no data chunk found (truncated?)");
    }

    sealed record Format(int Encoding, int Channels, int SampleRate, int BlockAlign, int Bits);

    static Format ParseFormat(ReadOnlySpan<byte> chunk, string name)
    {
        if (chunk.Length < 16) throw new BatException(name, $"truncated header: fmt chunk has {chunk.Length} bytes, needs at least 16");
        int tag = BinaryPrimitives.ReadUInt16LittleEndian(chunk);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(chunk[2..]);
        long rate = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
        int blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(chunk[12..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(chunk[14..]);
        if (tag == FormatExtensible)
        {
            if (chunk.Length < 40) throw new BatException(name, $"truncated header: WAVE_FORMAT_EXTENSIBLE fmt chunk has {chunk.Length} bytes, needs 40");
            var guid = chunk.Slice(24, 16);
            if (!guid[2..].SequenceEqual(SubFormatTail))
                throw new BatException(name, $"unsupported encoding: WAVE_FORMAT_EXTENSIBLE sub-format {new Guid(guid)}");
            tag = BinaryPrimitives.ReadUInt16LittleEndian(guid);
        }
        if (channels == 0) throw new BatException(name, "the fmt chunk declares 0 channels");
        if (rate == 0 || rate > int.MaxValue) throw new BatException(name, $"invalid sample rate {rate}");
        bool supported = (tag == FormatPcm && bits is 8 or 16 or 24 or 32) || (tag == FormatFloat && bits is 32 or 64);
        if (!supported)
        {
            string what = tag switch
            {
                FormatPcm => $"{bits}-bit PCM (supported: 8, 16, 24, 32)",
                FormatFloat => $"{bits}-bit IEEE float (supported: 32, 64)",
                2 => "Microsoft ADPCM (format tag 2)",
                6 => "A-law (format tag 6)",
                7 => "mu-law (format tag 7)",
                0x11 => "IMA ADPCM (format tag 0x11)",
                _ => $"format tag 0x{tag:X4}",
            };
            throw new BatException(name, $"unsupported encoding: {what}; convert it, e.g. `ffmpeg -i IN -c:a pcm_s16le OUT.wav`");
        }
        if (blockAlign != channels * bits / 8)
            throw new BatException(name, $"inconsistent fmt chunk: block align {blockAlign} != {channels} channels x {bits / 8} bytes");
        return new Format(tag, channels, (int)rate, blockAlign, bits);
    }

    static AudioClip Decode(ReadOnlySpan<byte> data, Format f, string name)
    {
        // A trailing partial frame (fewer bytes than one sample per channel) carries no complete sample.
        int frames = data.Length / f.BlockAlign;
        if (frames == 0) throw new BatException(name, "zero samples: the data chunk is empty");
        int width = f.Bits / 8;
        var mono = new float[frames];
        for (int i = 0; i < frames; i++)
        {
            var frame = data.Slice(i * f.BlockAlign, f.BlockAlign);
            double sum = 0;
            for (int c = 0; c < f.Channels; c++) sum += Sample(frame.Slice(c * width, width), f);
            mono[i] = (float)(sum / f.Channels);
        }
        return new AudioClip(mono, f.SampleRate, name);
    }

    // Integer PCM maps to [-1, 1) by dividing by 2^(bits-1) (8-bit PCM is unsigned, centred at 128).
    static double Sample(ReadOnlySpan<byte> b, Format f) => (f.Encoding, f.Bits) switch
    {
        (FormatPcm, 8) => (b[0] - 128) / 128.0,
        (FormatPcm, 16) => BinaryPrimitives.ReadInt16LittleEndian(b) / 32768.0,
        (FormatPcm, 24) => ((b[0] | (b[1] << 8) | (b[2] << 16)) << 8 >> 8) / 8388608.0,
        (FormatPcm, 32) => BinaryPrimitives.ReadInt32LittleEndian(b) / 2147483648.0,
        (FormatFloat, 32) => BinaryPrimitives.ReadSingleLittleEndian(b),
        _ => BinaryPrimitives.ReadDoubleLittleEndian(b),
    };

    static string Printable(string id) => new(id.Select(ch => ch is >= ' ' and <= '~' ? ch : '?').ToArray());
}
