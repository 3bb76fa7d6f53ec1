namespace Bat.Tests.Common;

/// <summary>The malloc thresholds are set when Bat.Core loads, can be put back, and show in the environment report.</summary>
public class NativeAllocatorTests
{
    [Fact]
    public void Thresholds_are_tuned_on_load_and_can_be_reset_and_tuned_again()
    {
        Assert.True(NativeAllocator.Tuned, "Bat.Core's module initializer should have set glibc's malloc thresholds");
        try
        {
            NativeAllocator.UseGlibcDefaults();
            Assert.False(NativeAllocator.Tuned);
            Assert.Contains(Bat.Reporting.EnvironmentInfo.Describe(), e => e.Name == "malloc thresholds" && e.Value == "glibc defaults");
        }
        finally { NativeAllocator.Tune(); }
        Assert.True(NativeAllocator.Tuned);
        Assert.Contains(Bat.Reporting.EnvironmentInfo.Describe(), e => e.Name == "malloc thresholds" && e.Value.Contains("NativeAllocator"));
    }
}
