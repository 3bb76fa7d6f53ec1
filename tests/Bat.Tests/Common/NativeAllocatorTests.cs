using System.Diagnostics;

namespace Bat.Tests.Common;

/// <summary>The malloc thresholds are set when Bat.Core loads, BAT_MALLOC_TUNING=off keeps glibc's, and `bat info` says which.</summary>
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
    public void Thresholds_are_tuned_on_load()
    {
        Assert.True(NativeAllocator.Tuned, "Bat.Core's module initializer should have set glibc's malloc thresholds");
        Assert.Contains(Bat.Reporting.EnvironmentInfo.Describe(), e => e.Name == "malloc thresholds" && e.Value.Contains("NativeAllocator"));
    }

    [Fact]
    public void The_opt_out_keeps_glibc_defaults_and_bat_info_says_so()
    {
        Assert.Contains("NativeAllocator", BatInfo(null));
        Assert.Contains("glibc defaults", BatInfo("off"));
    }
}
