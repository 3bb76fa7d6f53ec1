using System.Buffers.Binary;
using static TorchSharp.torch;

namespace Bat.Data;

/// <summary>
/// On-disk feature tensors: "BATF", version, bits (16 or 32), rank, int64 dims, then little-endian float16 or
/// float32 values. Written atomically; an unreadable or truncated file counts as a miss and is rewritten.
/// </summary>
internal static class FeatureCache
{
    const int Version = 1;

    public static void Write(string path, Tensor features, bool float16)
    {
        using var cpu = features.detach().cpu().to_type(ScalarType.Float32).contiguous();
        var values = cpu.data<float>().ToArray();
        var shape = cpu.shape;
        int header = 16 + 8 * shape.Length, width = float16 ? 2 : 4;
        var bytes = new byte[header + width * values.Length];
        var span = bytes.AsSpan();
        "BATF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], width * 8);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], shape.Length);
        for (int d = 0; d < shape.Length; d++) BinaryPrimitives.WriteInt64LittleEndian(span[(16 + 8 * d)..], shape[d]);
        for (int i = 0; i < values.Length; i++)
        {
            if (float16) BinaryPrimitives.WriteHalfLittleEndian(span[(header + 2 * i)..], (Half)values[i]);
            else BinaryPrimitives.WriteSingleLittleEndian(span[(header + 4 * i)..], values[i]);
        }
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The cached tensor (float32), or null when absent or unreadable.</summary>
    public static Tensor? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException) { return null; }
        var span = bytes.AsSpan();
        if (span.Length < 16 || !span[..4].SequenceEqual("BATF"u8) || BinaryPrimitives.ReadInt32LittleEndian(span[4..]) != Version) return null;
        int bits = BinaryPrimitives.ReadInt32LittleEndian(span[8..]), rank = BinaryPrimitives.ReadInt32LittleEndian(span[12..]);
        if (bits is not (16 or 32) || rank is < 1 or > 8 || span.Length < 16 + 8 * rank) return null;
        var shape = new long[rank];
        long count = 1;
        int header = 16 + 8 * rank, width = bits / 8;
        for (int d = 0; d < rank; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt64LittleEndian(span[(16 + 8 * d)..]);
            // A corrupt dimension (negative, or more values than the file holds) is a miss, not an allocation.
            if (shape[d] < 0 || (shape[d] > 0 && count > span.Length / shape[d])) return null;
            count *= shape[d];
        }
        if (span.Length != header + width * count) return null;
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = bits == 16 ? (float)BinaryPrimitives.ReadHalfLittleEndian(span[(header + 2 * i)..])
                                   : BinaryPrimitives.ReadSingleLittleEndian(span[(header + 4 * i)..]);
        return tensor(values, shape);
    }
}
