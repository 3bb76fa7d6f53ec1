using System.Diagnostics;

namespace Bat.Tests.Common;

/// <summary>
/// The malloc thresholds are set when Bat.Core loads, BAT_MALLOC_TUNING=off keeps glibc's, and `bat info` says which.
/// The checks look at glibc's own bookkeeping (mallinfo2: was a 16 MB block mmapped?), not at a flag the code sets.
/// </summary>
public class NativeAllocatorTests
{
    static string BatInfo(string? tuning)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "bat.dll"));
        psi.ArgumentList.Add("info");
        if (tuning is null) psi.Environment.Remove(NativeAllocator.OptOutVariable);
        else psi.Environment[NativeAllocator.OptOutVariable] = tuning;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "bat info did not finish in 60 s");
        Assert.True(process.ExitCode == 0, stderr.Result);
        return stdout.Result.Split('\n').Single(l => l.Contains("malloc thresholds"));
    }

    [Fact]
    public void Loading_the_library_makes_glibc_serve_large_blocks_from_the_heap()
    {
        Assert.True(NativeAllocator.LargeBlocksFromHeap(), "a 16 MB malloc was mmapped: the thresholds are not in effect in this process");
    }

    [Fact]
    public void A_fresh_process_mmaps_large_blocks_only_with_the_opt_out_and_bat_info_says_so()
    {
        // Fresh processes, so glibc's dynamic threshold has not been raised by earlier frees.
        var tuned = BatInfo(null);
        Assert.Contains("NativeAllocator", tuned);
        Assert.Contains("came from the heap", tuned);
        var off = BatInfo("off");
        Assert.Contains("glibc defaults", off);
        Assert.Contains("was mmapped", off);
    }
}
