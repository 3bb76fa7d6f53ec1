using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bat.Notebooks;

/// <summary>
/// The .NET Interactive kernel (the tool `microsoft.dotnet-interactive` pinned in .config/dotnet-tools.json, the
/// same kernel Jupyter and VS Code run) in a child process, driven over its stdio protocol: one JSON command per
/// line in (<c>SubmitCode</c>), one JSON event per line out. Running it out of process means a cell that exits the
/// process, overflows the stack or is killed ends the kernel, not the runner, which then records the error.
/// </summary>
public sealed class KernelProcess : IDisposable
{
    public const string ToolPackage = "microsoft.dotnet-interactive";
    const string ManifestPath = ".config/dotnet-tools.json";

    readonly Process _process;
    readonly Queue<JsonObject> _events = new();
    readonly object _gate = new();
    readonly List<string> _stderr = [];
    bool _exited;
    int _nextToken;

    KernelProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Receive(e.Data);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_gate) { if (_stderr.Count < 200) _stderr.Add(e.Data); }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>
    /// Starts the kernel with <paramref name="workingDirectory"/> as the cells' current directory (Jupyter starts
    /// it in the notebook's folder too). The tool is found through the repository's tool manifest, restored once
    /// with `dotnet tool restore` if needed.
    /// </summary>
    public static KernelProcess Start(string workingDirectory)
    {
        var root = ToolRoot();
        var kernel = new KernelProcess(Launch(root, workingDirectory));
        if (kernel.WaitForReady() is { } failure)
        {
            kernel.Dispose();
            if (!failure.Contains("dotnet tool restore", StringComparison.Ordinal))
                throw new BatException(Path.Combine(root, ManifestPath), $"the {ToolPackage} kernel did not start: {failure}");
            Restore(root);
            kernel = new KernelProcess(Launch(root, workingDirectory));
            if (kernel.WaitForReady() is { } again)
            {
                kernel.Dispose();
                throw new BatException(Path.Combine(root, ManifestPath), $"the {ToolPackage} kernel did not start: {again}");
            }
        }
        return kernel;
    }

    /// <summary>The folder holding .config/dotnet-tools.json: above the running program (the repository's build output).</summary>
    public static string ToolRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, ManifestPath))) return dir.FullName;
        throw new BatException(AppContext.BaseDirectory, $"no {ManifestPath} above the program's folder: the notebook kernel " +
                                                         $"({ToolPackage}) is pinned there; run bat from its repository build");
    }

    /// <summary>
    /// Registers the kernel with Jupyter (`dotnet interactive jupyter install`: ".NET (C#)", kernelspec
    /// .net-csharp, plus F# and PowerShell) in <paramref name="kernelsDir"/>, by default the user's Jupyter data
    /// folder. Debian's Jupyter has no `jupyter kernelspec` command, so the folder is created and passed explicitly.
    /// The kernelspec runs `dotnet interactive`, which finds the pinned tool from any folder inside the repository.
    /// Returns the folder and the tool's output.
    /// </summary>
    public static (string KernelsDir, string Output) InstallJupyterKernel(string? kernelsDir)
    {
        var root = ToolRoot();
        Restore(root);
        kernelsDir ??= Path.Combine(Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR")
            ?? Path.Combine(Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share"), "jupyter"), "kernels");
        Directory.CreateDirectory(kernelsDir);
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "tool", "run", "dotnet-interactive", "--", "jupyter", "install", "--path", kernelsDir }) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        using var install = Process.Start(psi)!;
        var output = install.StandardOutput.ReadToEndAsync();
        var error = install.StandardError.ReadToEnd();
        install.WaitForExit();
        var text = (output.Result + error).Trim();
        if (install.ExitCode != 0 || !File.Exists(Path.Combine(kernelsDir, ".net-csharp", "kernel.json")))
            throw new BatException(kernelsDir, $"`dotnet interactive jupyter install` failed: {text}");
        return (kernelsDir, text);
    }

    static Process Launch(string toolRoot, string workingDirectory)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = toolRoot,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "tool", "run", "dotnet-interactive", "--", "stdio", "--default-kernel", "csharp", "--working-dir", workingDirectory })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        return Process.Start(psi) ?? throw new BatException(toolRoot, "could not start `dotnet tool run dotnet-interactive`");
    }

    static void Restore(string toolRoot)
    {
        var psi = new ProcessStartInfo("dotnet", "tool restore") { WorkingDirectory = toolRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        using var restore = Process.Start(psi)!;
        var output = restore.StandardOutput.ReadToEndAsync();
        var error = restore.StandardError.ReadToEnd();
        restore.WaitForExit();
        if (restore.ExitCode != 0)
            throw new BatException(Path.Combine(toolRoot, ManifestPath), $"`dotnet tool restore` failed: {(error + output.Result).Trim()}");
    }

    void Receive(string? line)
    {
        lock (_gate)
        {
            if (line is null) _exited = true;
            // The tool prints a welcome banner before its first event; only JSON lines are protocol.
            else if (line.StartsWith('{'))
            {
                try { if (JsonNode.Parse(line) is JsonObject e) _events.Enqueue(e); }
                catch (JsonException) { }
            }
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Null once the kernel announced itself; otherwise why it did not (its standard error).</summary>
    string? WaitForReady()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        lock (_gate)
            while (true)
            {
                while (_events.TryDequeue(out var e))
                    if (EventType(e) == "KernelReady") return null;
                if (_exited || DateTime.UtcNow > deadline)
                {
                    _process.WaitForExit(5000);
                    return _exited ? $"it exited: {string.Join(" ", _stderr).Trim()}" : "no KernelReady event within 3 minutes";
                }
                Monitor.Wait(_gate, 1000);
            }
    }

    /// <summary>What became of a submission: its events in order, and how it ended.</summary>
    public enum Outcome { Succeeded, Failed, KernelExited, TimedOut }

    /// <summary>
    /// Submits one cell's code to <paramref name="kernelName"/> and hands every event of it to
    /// <paramref name="onEvent"/> as it arrives (output streams, displays, the return value, the failure).
    /// </summary>
    public (Outcome Outcome, string? Message) Submit(string code, string kernelName, Action<string, JsonObject> onEvent, TimeSpan? timeout)
    {
        var token = $"bat-{++_nextToken}";
        var command = new JsonObject
        {
            ["token"] = token,
            ["commandType"] = "SubmitCode",
            ["command"] = new JsonObject { ["code"] = code, ["targetKernelName"] = kernelName },
        };
        try
        {
            _process.StandardInput.WriteLine(command.ToJsonString());
            _process.StandardInput.Flush();
        }
        catch (IOException) { return (Outcome.KernelExited, ExitMessage()); }

        var deadline = timeout is { } t ? DateTime.UtcNow + t : DateTime.MaxValue;
        while (true)
        {
            JsonObject? next = null;
            lock (_gate)
            {
                while (!_events.TryDequeue(out next))
                {
                    if (_exited) return (Outcome.KernelExited, ExitMessage());
                    if (DateTime.UtcNow > deadline) return (Outcome.TimedOut, null);
                    Monitor.Wait(_gate, 200);
                }
            }
            var eventToken = next["command"]?["token"]?.GetValue<string>() ?? "";
            // The kernel's own sub-commands of a submission carry tokens "TOKEN.1", "TOKEN.2", ...
            if (eventToken != token && !eventToken.StartsWith(token + ".", StringComparison.Ordinal)) continue;
            var type = EventType(next);
            var body = next["event"] as JsonObject ?? new JsonObject();
            if (eventToken == token && type == "CommandSucceeded") return (Outcome.Succeeded, null);
            if (eventToken == token && type == "CommandFailed") return (Outcome.Failed, body["message"]?.GetValue<string>() ?? "(no message)");
            onEvent(type, body);
        }
    }

    string ExitMessage()
    {
        _process.WaitForExit(5000);
        var code = _process.HasExited ? _process.ExitCode.ToString() : "unknown";
        string[] tail;
        lock (_gate) tail = _stderr.TakeLast(20).ToArray();
        var signal = _process.HasExited && _process.ExitCode > 128 ? $" (signal {_process.ExitCode - 128})" : "";
        return $"the kernel process exited with code {code}{signal} while the cell ran" +
               (tail.Length > 0 ? ": " + string.Join(" | ", tail.Select(l => l.Trim()).Where(l => l.Length > 0)) : "");
    }

    static string EventType(JsonObject e) => e["eventType"]?.GetValue<string>() ?? "";

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(2000)) _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException) { }
        catch (IOException) { }
        _process.Dispose();
    }
}
