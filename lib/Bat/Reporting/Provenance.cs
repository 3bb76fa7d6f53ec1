using System.Diagnostics;

namespace Bat.Reporting;

/// <summary>Provenance for result rows.</summary>
public static class Provenance
{
    /// <summary>Short commit hash of the git checkout containing <paramref name="directory"/> (default: the
    /// working directory), with "-dirty" if tracked files changed; "unknown" outside git or without git.</summary>
    public static string GitCommit(string? directory = null)
    {
        var dir = directory ?? Directory.GetCurrentDirectory();
        var hash = Git(dir, "rev-parse", "--short", "HEAD");
        if (hash is null) return "unknown";
        var status = Git(dir, "status", "--porcelain", "--untracked-files=no");
        return string.IsNullOrEmpty(status) ? hash : hash + "-dirty";
    }

    static string? Git(string directory, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var process = Process.Start(psi);
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; } // git not installed
        catch (DirectoryNotFoundException) { return null; }
    }
}
