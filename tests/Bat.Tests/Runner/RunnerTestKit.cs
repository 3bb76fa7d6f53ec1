using System.Diagnostics;
using System.Text.Json.Nodes;
using Bat.Notebooks;

namespace Bat.Tests.Runner;

/// <summary>
/// Runs notebooks for the tests. In-process runs put the notebook in the test output folder (the test host's
/// working directory), so the runner's switch to the notebook's folder changes nothing for tests running beside
/// them; tests of the working directory itself run the CLI in a child process.
/// </summary>
internal static class RunnerTestKit
{
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "runner", name);

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bat-runner-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Notebook JSON from cells given as (type, source, tags).</summary>
    public static string Notebook(params (string Type, string Source, string[]? Tags)[] cells)
    {
        var array = new JsonArray();
        foreach (var (type, source, tags) in cells)
        {
            var cell = new JsonObject
            {
                ["cell_type"] = type,
                ["id"] = Guid.NewGuid().ToString("N")[..8],
                ["metadata"] = tags is null ? new JsonObject() : new JsonObject { ["tags"] = new JsonArray(tags.Select(t => (JsonNode)t!).ToArray()) },
                ["source"] = source,
            };
            if (type == "code")
            {
                cell["outputs"] = new JsonArray();
                cell["execution_count"] = null;
            }
            array.Add(cell);
        }
        return new JsonObject { ["cells"] = array, ["metadata"] = new JsonObject(), ["nbformat"] = 4, ["nbformat_minor"] = 5 }.ToJsonString();
    }

    public static string[] Code(params string[] sources) => sources;

    public static (NotebookRunResult Result, JsonObject Written) RunInProcess(string notebookJson, NotebookRunOptions? options = null)
    {
        var name = $"runner-test-{Guid.NewGuid():N}.ipynb";
        var path = Path.Combine(AppContext.BaseDirectory, name);
        File.WriteAllText(path, notebookJson);
        try
        {
            var opts = (options ?? new NotebookRunOptions()) with { OutDir = options?.OutDir ?? TempDir(), Log = TextWriter.Null };
            var result = NotebookRunner.Run(path, opts);
            return (result, (JsonObject)JsonNode.Parse(File.ReadAllText(result.OutputNotebook))!);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static (NotebookRunResult Result, JsonObject Written) RunFixture(string fixture, NotebookRunOptions? options = null) =>
        RunInProcess(File.ReadAllText(Fixture(fixture)), options);

    /// <summary>basic.ipynb run once (with --html) and shared by the tests that only read its outputs.</summary>
    public static (NotebookRunResult Result, JsonObject Written) Basic => basic.Value;
    static readonly Lazy<(NotebookRunResult, JsonObject)> basic = new(() => RunFixture("basic.ipynb", new NotebookRunOptions { Html = true }));

    public static JsonArray Cells(JsonObject nb) => (JsonArray)nb["cells"]!;

    public static JsonArray Outputs(JsonObject nb, int cellIndex) => (JsonArray)nb["cells"]![cellIndex]!["outputs"]!;

    public static string Text(JsonNode? multiline) => NotebookDocument.JoinLines(multiline);

    /// <summary>Runs `bat ARGS` in a child process from the given working directory.</summary>
    public static (int ExitCode, string StdOut, string StdErr) RunBat(string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "bat.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bat {string.Join(" ", args)} did not finish in 120 s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
