using Microsoft.Win32.SafeHandles;
using static TorchSharp.torch;

namespace Bat.Pretraining;

/// <summary>
/// Pre-training clips kept in an unnamed temporary file instead of memory: each step reads its batch with
/// positioned reads (served from the page cache when it fits), so the resident memory of a run does not grow
/// with the dataset (AudioSet-2M at the tiny preset is 2M x 128 KB). The values are exactly those an in-memory
/// tensor would hold (float32, clip-major), so training is unchanged. The file is unlinked as soon as it is
/// created (on Windows: deleted on close), so nothing is left behind, even after a crash.
/// </summary>
public sealed class FileClipSource : IClipSource, IDisposable
{
    readonly FileStream file;
    readonly long[] clipShape;
    readonly long clipBytes;

    public int Count { get; }

    FileClipSource(FileStream file, long[] clipShape, int count)
    {
        this.file = file;
        this.clipShape = clipShape;
        clipBytes = clipShape.Aggregate(1L, (a, b) => a * b) * sizeof(float);
        Count = count;
    }

    /// <summary>
    /// Writes batches of clips (B, ...clipShape) float32, in order, to a temporary file in
    /// <paramref name="folder"/> (default: the system temp folder) and opens it for reading.
    /// </summary>
    public static FileClipSource Create(IEnumerable<Tensor> batches, long[] clipShape, string? folder = null)
    {
        var dir = folder ?? Path.GetTempPath();
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $".bat-clips-{Environment.ProcessId}-{Guid.NewGuid():N}.f32");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose);
        try
        {
            if (!OperatingSystem.IsWindows()) File.Delete(path); // the open handle keeps the data; the name goes now
            int count = 0;
            foreach (var batch in batches)
            {
                if (batch.dtype != ScalarType.Float32 || !batch.shape.Skip(1).SequenceEqual(clipShape))
                    throw new ArgumentException($"clips must be float32 ({string.Join(", ", clipShape)}), got {batch.dtype} ({string.Join(", ", batch.shape)})");
                using var cpu = batch.cpu();            // every handle disposed now: a batch's storage must not wait for the GC
                using var contiguous = cpu.contiguous();
                file.Write(contiguous.bytes);
                count += (int)batch.shape[0];
            }
            file.Flush();
            return new FileClipSource(file, clipShape, count);
        }
        catch (IOException e)
        {
            file.Dispose();
            throw new BatException(dir, $"cannot write the pre-training features: {e.Message}", e);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The clips at <paramref name="indices"/> as one (n, ...clipShape) tensor.</summary>
    public Tensor Load(IReadOnlyList<int> indices)
    {
        var batch = empty([indices.Count, .. clipShape], ScalarType.Float32);
        var target = batch.bytes;   // a span over the new tensor's own storage
        SafeFileHandle handle = file.SafeFileHandle;
        for (int j = 0; j < indices.Count; j++)
        {
            if (indices[j] < 0 || indices[j] >= Count) throw new ArgumentOutOfRangeException(nameof(indices), $"clip {indices[j]} outside 0..{Count - 1}");
            var slot = target.Slice((int)(j * clipBytes), (int)clipBytes);
            long offset = indices[j] * clipBytes;
            for (int done = 0; done < slot.Length;)
            {
                int n = RandomAccess.Read(handle, slot[done..], offset + done);
                if (n == 0) throw new IOException($"pre-training features file ended at clip {indices[j]}");
                done += n;
            }
        }
        return batch;
    }

    public void Dispose() => file.Dispose();
}
