using System.Buffers.Binary;

namespace Bat.Audio;

/// <summary>
/// Reads RIFF/WAVE files by hand: PCM 8/16/24/32-bit, IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE (the real
/// encoding is in its sub-format GUID), any channel count (averaged to mono), unknown chunks skipped, odd-sized
/// chunks padded to an even length as RIFF requires. Every malformed input is a <see cref="BatException"/>, and
/// the header's rate, channels and length are checked against <see cref="AudioLimits"/> before decoding.
/// </summary>
public static class WavReader
{
    const ushort FormatPcm = 1, FormatFloat = 3, FormatExtensible = 0xFFFE;

    // Every KSDATAFORMAT_SUBTYPE_* GUID ends in these 14 bytes; its first two bytes are the plain format tag.
    static readonly byte[] SubFormatTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];

    /// <summary>True when the bytes start like a RIFF/WAVE file (used to pick the decoder).</summary>
    public static bool LooksLikeWav(ReadOnlySpan<byte> head) =>
        head.Length >= 12 && head[..4].SequenceEqual("RIFF"u8) && head[8..12].SequenceEqual("WAVE"u8);

    /// <summary>
    /// Reads a WAV file as a stream: the header is checked against <see cref="AudioLimits"/> before anything is
    /// allocated, then the samples are decoded block by block, so memory is the mono clip and one small buffer.
    /// </summary>
    public static AudioClip Read(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "file not found");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BlockBytes);
            return Read(stream, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BatException(path, $"cannot read: {e.Message}", e);
        }
    }

    /// <summary>Parses a whole WAV file held in memory; <paramref name="name"/> is used in error messages.</summary>
    public static AudioClip Parse(ReadOnlySpan<byte> file, string name)
    {
        using var stream = new MemoryStream(file.ToArray(), writable: false);
        return Read(stream, name);
    }

    const int BlockBytes = 1 << 16;
    // A fmt chunk is 16, 18 or 40 bytes; anything far larger is a corrupt size field, not a format.
    const int MaxFormatChunk = 4096;

    static AudioClip Read(Stream file, string name)
    {
        long length = file.Length;
        Span<byte> head = stackalloc byte[12];
        int got = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (got < 12) throw new BatException(name, $"truncated header: {got} bytes, a WAV header needs at least 12");
        if (!LooksLikeWav(head)) throw new BatException(name, "not a RIFF/WAVE file (it does not start with 'RIFF....WAVE')");

        Format? format = null;
        long pos = 12;
        Span<byte> chunkHead = stackalloc byte[8];
        while (pos + 8 <= length)
        {
            file.Position = pos;
            file.ReadExactly(chunkHead);
            var id = System.Text.Encoding.ASCII.GetString(chunkHead[..4]);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(chunkHead[4..]);
            long body = pos + 8;
            long remaining = length - body;
            if (id == "fmt ")
            {
                if (size > remaining) throw new BatException(name, $"truncated header: the fmt chunk claims {size} bytes but only {remaining} remain");
                if (size > MaxFormatChunk) throw new BatException(name, $"corrupt header: a fmt chunk of {size} bytes (a valid one has 16 to 40)");
                var chunk = new byte[size];
                file.ReadExactly(chunk);
                format = ParseFormat(chunk, name);
            }
            else if (id == "data")
            {
                if (format is null) throw new BatException(name, "the data chunk comes before the fmt chunk");
                if (size > remaining)
                    throw new BatException(name, $"the data chunk claims {size} bytes but only {remaining} remain in the file (truncated?)");
                return Decode(file, size, format, name);
            }
            else if (size > remaining)
            {
                throw new BatException(name, $"truncated file: the '{Printable(id)}' chunk claims {size} bytes but only {remaining} remain");
            }
            // RIFF chunks are word-aligned: an odd-sized chunk is followed by one pad byte.
            pos = body + size + (size & 1);
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
        if (channels > AudioLimits.MaxChannels)
            throw new BatException(name, $"the fmt chunk declares {channels} channels, more than the {AudioLimits.MaxChannels} supported (corrupt header?)");
        AudioLimits.CheckRate(name, rate);
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

    /// <summary>Decodes <paramref name="dataBytes"/> bytes from the stream's position, block by block, to mono.</summary>
    static AudioClip Decode(Stream file, long dataBytes, Format f, string name)
    {
        // A trailing partial frame (fewer bytes than one sample per channel) carries no complete sample.
        long frames = dataBytes / f.BlockAlign;
        if (frames == 0) throw new BatException(name, "zero samples: the data chunk is empty");
        AudioLimits.CheckLength(name, frames, f.SampleRate);
        int width = f.Bits / 8;
        var mono = new float[frames];
        var buffer = new byte[Math.Max(1, BlockBytes / f.BlockAlign) * f.BlockAlign];
        long done = 0;
        while (done < frames)
        {
            int count = (int)Math.Min(frames - done, buffer.Length / f.BlockAlign);
            var block = buffer.AsSpan(0, count * f.BlockAlign);
            file.ReadExactly(block);
            for (int i = 0; i < count; i++)
            {
                var frame = block.Slice(i * f.BlockAlign, f.BlockAlign);
                double sum = 0;
                for (int c = 0; c < f.Channels; c++) sum += Sample(frame.Slice(c * width, width), f);
                mono[done + i] = (float)(sum / f.Channels);
            }
            done += count;
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
