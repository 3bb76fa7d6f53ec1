using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Bat.Reporting;

/// <summary>What a result was computed with: printed by `bat info` and repeated in every report.</summary>
public static class EnvironmentInfo
{
    public static IReadOnlyList<(string Name, string Value)> Describe() =>
    [
        ("bat commit", GitCommit()),
        (".NET", RuntimeInformation.FrameworkDescription),
        ("OS", RuntimeInformation.OSDescription),
        ("CPU cores", Environment.ProcessorCount.ToString()),
        ("TorchSharp", typeof(torch).Assembly.GetName().Version?.ToString() ?? "?"),
        ("libtorch threads", torch.get_num_threads().ToString()),
        ("device", Devices.Default.ToString()),
    ];

    /// <summary>Short hash of the checkout the code runs from ("unknown" outside git), "+dirty" if it has edits.</summary>
    public static string GitCommit(string? directory = null)
    {
        directory ??= Directory.GetCurrentDirectory();
        var hash = Git(directory, "rev-parse --short HEAD");
        if (hash is null) return "unknown";
        var status = Git(directory, "status --porcelain --untracked-files=no");
        return string.IsNullOrEmpty(status) ? hash : hash + "+dirty";
    }

    static string? Git(string directory, string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git", arguments)
            {
                WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var process = Process.Start(start);
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; } // git not installed
    }
}
