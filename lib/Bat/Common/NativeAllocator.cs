using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bat;

/// <summary>
/// Keeps glibc from returning libtorch's large CPU buffers to the kernel after every free. libtorch's CPU
/// allocator calls malloc for each activation; with glibc's defaults a step's multi-megabyte tensors can come
/// from fresh mmap'd pages each time, and the page faults cost more than the arithmetic. Serving blocks up to
/// 32 MB (glibc's ceiling) from the heap and trimming the heap only above 1 GB of free memory removes that.
/// Measured as fresh processes with and without it (BAT_MALLOC_TUNING=off), environment.md: a tiny
/// pre-training step 309 vs 579 ms, a CGP step at small K 10-12 vs 77-80 ms. Linux/glibc only.
/// </summary>
public static class NativeAllocator
{
    const int TrimThreshold = -1, MmapThreshold = -3;   // mallopt parameters, glibc malloc.h
    public const string OptOutVariable = "BAT_MALLOC_TUNING";

    /// <summary>True when the thresholds were set in this process.</summary>
    public static bool Tuned { get; private set; }

    /// <summary>Runs when Bat.Core is loaded, before any tensor exists, so every process using the library gets it.</summary>
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "process-wide allocator setting must precede the first tensor")]
    internal static void TuneOnLoad()
    {
        if (!OperatingSystem.IsLinux()) return;
        if (string.Equals(Environment.GetEnvironmentVariable(OptOutVariable), "off", StringComparison.OrdinalIgnoreCase)) return;
        try
        {
            Tuned = mallopt(MmapThreshold, 32 << 20) == 1 & mallopt(TrimThreshold, 1 << 30) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (e.g. musl): its allocator stays as it is.
        }
    }

    /// <summary>
    /// The thresholds' observable effect, measured rather than assumed: true when a 16 MB malloc is served from the
    /// heap instead of a fresh mmap (glibc's default threshold is 128 KB, rising only after such blocks are freed).
    /// Reads glibc's mallinfo2 count of mmapped blocks around one allocation. False off glibc.
    /// </summary>
    public static bool LargeBlocksFromHeap()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            var before = mallinfo2().MmappedBlocks;
            unsafe
            {
                var block = NativeMemory.Alloc(16 << 20);
                var after = mallinfo2().MmappedBlocks;
                NativeMemory.Free(block);
                return after == before;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // glibc's struct mallinfo2: ten size_t counters; hblks (the fourth) counts the blocks allocated with mmap.
    [StructLayout(LayoutKind.Sequential)]
    struct MallInfo2
    {
        public nuint Arena, OrdinaryBlocks, SmallBlocks, MmappedBlocks, MmappedBytes, MaxTotal, FastBytes, Used, Free, KeepCost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    static extern MallInfo2 mallinfo2();

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int mallopt(int param, int value);
}
