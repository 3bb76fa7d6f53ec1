using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bat;

/// <summary>
/// Keeps glibc from returning libtorch's large CPU buffers to the kernel after every free. libtorch's CPU
/// allocator calls malloc for each activation; with glibc's defaults a step's multi-megabyte tensors come from
/// fresh mmap'd pages each time, and the page faults cost more than the arithmetic: a CGP step at small K
/// took 60-75 ms instead of 9-12 ms on the tiny preset's cache (`bat bench probe` times it both ways in one process).
/// Serving blocks up to 32 MB (glibc's ceiling) from the heap and trimming the heap only above 1 GB of
/// free memory removes that. Linux/glibc only; BAT_MALLOC_TUNING=off leaves the defaults (environment.md).
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
    internal static void TuneOnLoad() => Tune();

    public static void Tune()
    {
        if (Tuned || !OperatingSystem.IsLinux()) return;
        if (string.Equals(Environment.GetEnvironmentVariable(OptOutVariable), "off", StringComparison.OrdinalIgnoreCase)) return;
        Tuned = Set(mmapThreshold: 32 << 20, trimThreshold: 1 << 30);
    }

    /// <summary>glibc's initial thresholds (128 KiB each), so `bat bench probe` can time a step both ways in one process.</summary>
    public static void UseGlibcDefaults()
    {
        if (Set(mmapThreshold: 128 << 10, trimThreshold: 128 << 10)) Tuned = false;
    }

    static bool Set(int mmapThreshold, int trimThreshold)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return mallopt(MmapThreshold, mmapThreshold) == 1 & mallopt(TrimThreshold, trimThreshold) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;   // not glibc (e.g. musl): its allocator stays as it is
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int mallopt(int param, int value);
}
