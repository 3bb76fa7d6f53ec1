using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Bat.Notebooks;

public sealed record NotebookRunOptions
{
    /// <summary>Folder for the executed notebook (NAME.ipynb) and HTML (NAME.html); null = beside the input as
    /// NAME.out.ipynb / NAME.out.html.</summary>
    public string? OutDir { get; init; }
    public bool Html { get; init; }
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    public TimeSpan? CellTimeout { get; init; }
    /// <summary>Where progress lines go (cell started/finished); null = standard error.</summary>
    public TextWriter? Log { get; init; }
}

public sealed record NotebookRunResult(
    string Notebook, string OutputNotebook, string? OutputHtml, bool Succeeded, string? Error, int CellsRun, TimeSpan Elapsed);

/// <summary>
/// Runs a Polyglot notebook headless on the .NET Interactive kernel (<see cref="KernelProcess"/>, the kernel Jupyter
/// and VS Code use, in a child process started in the notebook's folder): code cells in order, each as one
/// submission, and writes the executed notebook (nbformat 4.5) with the kernel's stream, display, result and error
/// outputs. On top of the kernel: papermill-style parameters, progress lines, the standalone HTML, and a run that
/// stops at the first failing cell (or a kernel that died) and still writes the notebook.
/// </summary>
public static class NotebookRunner
{
    public static NotebookRunResult Run(string notebookPath, NotebookRunOptions options)
    {
        var clock = Stopwatch.StartNew();
        var log = options.Log ?? Console.Error;
        var input = Path.GetFullPath(notebookPath);
        var doc = NotebookDocument.Load(input);
        NotebookParameters.Inject(doc, options.Parameters);
        var (outNotebook, outHtml) = OutputPaths(input, options);
        EnsurePolyglotMetadata(doc);
        foreach (var cell in doc.Cells.Where(c => NotebookDocument.CellType(c) == "code"))
        {
            cell["outputs"] = new JsonArray();
            cell["execution_count"] = null;
        }

        var name = Path.GetFileNameWithoutExtension(input);
        string? error = null;
        int executionCount = 0;
        int codeCells = doc.Cells.Count(c => NotebookDocument.CellType(c) == "code");
        log.WriteLine($"[{name}] starting the .NET Interactive kernel");
        using (var kernel = KernelProcess.Start(Path.GetDirectoryName(input)!))
        {
            for (int i = 0; i < doc.Cells.Count && error is null; i++)
            {
                var cell = doc.Cells[i];
                if (NotebookDocument.CellType(cell) != "code") continue;
                var label = $"cell {i + 1} (id {NotebookDocument.Id(cell)})";
                cell["execution_count"] = ++executionCount;
                log.WriteLine($"[{name}] {label}: running ({executionCount}/{codeCells} code cells)");
                var cellClock = Stopwatch.StartNew();
                var outputs = new CellOutputs(executionCount);
                var (outcome, message) = kernel.Submit(NotebookDocument.Source(cell), KernelName(cell), outputs.Add, options.CellTimeout);
                error = outcome switch
                {
                    KernelProcess.Outcome.Succeeded => null,
                    KernelProcess.Outcome.Failed => outputs.Fail(label, message!),
                    KernelProcess.Outcome.KernelExited => outputs.Fail(label, "KernelDied", message!),
                    _ => outputs.Fail(label, "TimeoutError",
                        $"did not finish within {options.CellTimeout!.Value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s (--timeout-per-cell); run stopped"),
                };
                cell["outputs"] = outputs.Array;
                log.WriteLine(error is null
                    ? $"[{name}] {label}: done in {cellClock.Elapsed.TotalSeconds:F1} s"
                    : $"[{name}] {label}: FAILED after {cellClock.Elapsed.TotalSeconds:F1} s: {error}");
                doc.Save(outNotebook); // after every cell: a long run can be watched, and a killed one keeps its outputs
            }
        }
        if (outHtml is not null) AtomicFile.WriteAllText(outHtml, HtmlExporter.Render(doc, name));
        log.WriteLine($"[{name}] {(error is null ? "finished" : "stopped")} in {clock.Elapsed.TotalSeconds:F1} s; wrote {outNotebook}" +
                      (outHtml is null ? "" : $" and {outHtml}"));
        return new NotebookRunResult(input, outNotebook, outHtml, error is null, error, executionCount, clock.Elapsed);
    }

    /// <summary>The kernel a cell names in its Polyglot metadata (C# unless it says otherwise).</summary>
    static string KernelName(JsonObject cell) =>
        cell["metadata"]?["polyglot_notebook"]?["kernelName"]?.GetValue<string>()
        ?? cell["metadata"]?["dotnet_interactive"]?["language"]?.GetValue<string>() ?? "csharp";

    static (string Notebook, string? Html) OutputPaths(string input, NotebookRunOptions options)
    {
        var name = Path.GetFileNameWithoutExtension(input);
        var stem = options.OutDir is null
            ? Path.Combine(Path.GetDirectoryName(input)!, name + ".out")
            : Path.Combine(Path.GetFullPath(options.OutDir), name);
        var notebook = stem + ".ipynb";
        if (string.Equals(notebook, input, StringComparison.Ordinal))
            throw new BatException(input, "the executed notebook would overwrite the input; choose another --out folder");
        return (notebook, options.Html ? stem + ".html" : null);
    }

    /// <summary>What VS Code Polyglot needs to open the file with the C# kernel; kept where already present.</summary>
    static void EnsurePolyglotMetadata(NotebookDocument doc)
    {
        var meta = doc.Metadata;
        meta["kernelspec"] ??= new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" };
        meta["language_info"] ??= new JsonObject { ["name"] = "polyglot-notebook" };
        meta["polyglot_notebook"] ??= new JsonObject
        {
            ["kernelInfo"] = new JsonObject
            {
                ["defaultKernelName"] = "csharp",
                ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = "csharp" }),
            },
        };
        foreach (var cell in doc.Cells.Where(c => NotebookDocument.CellType(c) == "code"))
        {
            var m = (JsonObject)cell["metadata"]!;
            m["dotnet_interactive"] ??= new JsonObject { ["language"] = "csharp" };
            m["polyglot_notebook"] ??= new JsonObject { ["kernelName"] = "csharp" };
        }
    }
}
