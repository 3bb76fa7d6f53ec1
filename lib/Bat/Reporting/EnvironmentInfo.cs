using System.Runtime.InteropServices;
using TorchSharp;

namespace Bat.Reporting;

/// <summary>What a result was computed with: printed by `bat info` and repeated in every report.</summary>
public static class EnvironmentInfo
{
    public static IReadOnlyList<(string Name, string Value)> Describe() =>
    [
        ("bat commit", Provenance.GitCommit()),
        (".NET", RuntimeInformation.FrameworkDescription),
        ("OS", RuntimeInformation.OSDescription),
        ("CPU cores", Environment.ProcessorCount.ToString()),
        ("TorchSharp", typeof(torch).Assembly.GetName().Version?.ToString() ?? "?"),
        ("libtorch threads", torch.get_num_threads().ToString()),
        ("device", Devices.Default.ToString()),
        ("malloc thresholds", (NativeAllocator.Tuned ? "mmap 32 MB, trim 1 GB (NativeAllocator)" : "glibc defaults") +
                              (NativeAllocator.LargeBlocksFromHeap() ? "; a 16 MB block came from the heap" : "; a 16 MB block was mmapped")),
    ];
}
