using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

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
/// Runs a Polyglot C# notebook headless the way the .NET Interactive C# kernel does: all code cells in order in
/// one Roslyn script state (RunAsync, then ContinueWithAsync), with the kernel's default usings, and writes the
/// executed notebook (nbformat 4.5) with stream, display, result and error outputs.
/// </summary>
public static class NotebookRunner
{
    /// <summary>The .NET Interactive C# kernel's default usings, plus display()/HTML()/Display().</summary>
    public static readonly IReadOnlyList<string> DefaultUsings =
        ["System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Threading.Tasks", "System.Linq"];

    /// <summary>Assemblies every cell references: the Bat library and the packages notebooks use.</summary>
    public static IReadOnlyList<Assembly> CarriedAssemblies =>
    [
        typeof(BatException).Assembly,                        // Bat.Core
        typeof(TorchSharp.torch).Assembly,                    // TorchSharp
        typeof(Plotly.NET.GenericChart).Assembly,             // Plotly.NET
        typeof(Plotly.NET.CSharp.Chart).Assembly,             // Plotly.NET.CSharp
        typeof(Microsoft.Data.Analysis.DataFrame).Assembly,   // Microsoft.Data.Analysis
        typeof(CsvHelper.CsvWriter).Assembly,                 // CsvHelper
        typeof(Microsoft.FSharp.Core.Unit).Assembly,          // FSharp.Core (Plotly.NET's API is F#)
        typeof(NotebookRunner).Assembly,                      // display(), HTML(), Display()
    ];

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

        ConsoleRouter.Install();
        var name = Path.GetFileNameWithoutExtension(input);
        var directory = Path.GetDirectoryName(input)!;
        var formatter = new DisplayFormatter();
        var scriptOptions = BaseOptions(directory);
        ScriptState<object>? state = null;
        string? error = null;
        int executionCount = 0;
        var previousDirectory = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(directory);
        try
        {
            int codeCells = doc.Cells.Count(c => NotebookDocument.CellType(c) == "code");
            for (int i = 0; i < doc.Cells.Count && error is null; i++)
            {
                var cell = doc.Cells[i];
                if (NotebookDocument.CellType(cell) != "code") continue;
                var label = $"cell {i + 1} (id {NotebookDocument.Id(cell)})";
                cell["execution_count"] = ++executionCount;
                log.WriteLine($"[{name}] {label}: running ({executionCount}/{codeCells} code cells)");
                var cellClock = Stopwatch.StartNew();
                var session = new CellSession(formatter);
                (state, scriptOptions, error) = RunCell(cell, label, i + 1, state, scriptOptions, session, executionCount, directory, options.CellTimeout);
                cell["outputs"] = session.Close();
                log.WriteLine(error is null
                    ? $"[{name}] {label}: done in {cellClock.Elapsed.TotalSeconds:F1} s"
                    : $"[{name}] {label}: FAILED after {cellClock.Elapsed.TotalSeconds:F1} s: {error}");
                doc.Save(outNotebook); // after every cell: a long run can be watched, and a killed one keeps its outputs
            }
        }
        finally
        {
            Directory.SetCurrentDirectory(previousDirectory);
        }
        doc.Save(outNotebook);
        if (outHtml is not null) AtomicFile.WriteAllText(outHtml, HtmlExporter.Render(doc, name));
        log.WriteLine($"[{name}] {(error is null ? "finished" : "stopped")} in {clock.Elapsed.TotalSeconds:F1} s; wrote {outNotebook}" +
                      (outHtml is null ? "" : $" and {outHtml}"));
        return new NotebookRunResult(input, outNotebook, outHtml, error is null, error, executionCount, clock.Elapsed);
    }

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

    /// <summary>Runs one cell on its own thread (so a runaway cell can be abandoned at the timeout).</summary>
    static (ScriptState<object>? State, ScriptOptions Options, string? Error) RunCell(
        JsonObject cell, string label, int cellNumber, ScriptState<object>? state, ScriptOptions scriptOptions,
        CellSession session, int executionCount, string directory, TimeSpan? timeout)
    {
        var kernel = cell["metadata"]?["polyglot_notebook"]?["kernelName"]?.GetValue<string>()
                     ?? cell["metadata"]?["dotnet_interactive"]?["language"]?.GetValue<string>() ?? "csharp";
        if (kernel is not ("csharp" or "c#" or "C#"))
            return (state, scriptOptions, Fail(session, "KernelError", $"{label}: kernel '{kernel}' is not supported (C# cells only)", null));

        CellDirectives.Prepared prepared;
        try { prepared = CellDirectives.Prepare(NotebookDocument.Source(cell), label, directory); }
        catch (CellDirectiveException e) { return (state, scriptOptions, Fail(session, "DirectiveError", e.Message, null)); }

        var cellOptions = scriptOptions
            .AddReferences(prepared.CarriedReferences)
            .AddReferences(prepared.ExternalReferences)
            .WithFilePath($"cell {cellNumber}");
        if (string.IsNullOrWhiteSpace(prepared.Code)) return (state, cellOptions, null);

        // Compile first, so the time limit covers running only and compile errors need no exception.
        var script = state is null ? CSharpScript.Create(prepared.Code, cellOptions) : state.Script.ContinueWith(prepared.Code, cellOptions);
        var errors = script.Compile().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        if (errors.Count > 0)
            return (state, cellOptions, Fail(session, "CompilationError", $"{label}: does not compile: {string.Join("; ", errors)}", errors));

        ScriptState<object>? next = null;
        Exception? thrown = null;
        var clock = Stopwatch.StartNew();
        var worker = new Thread(() =>
        {
            CellSession.Current = session;
            try { next = (state is null ? script.RunAsync() : script.RunFromAsync(state)).GetAwaiter().GetResult(); }
            catch (Exception e) { thrown = e; }
            finally { Console.Out.Flush(); }
        }, maxStackSize: 64 * 1024 * 1024) { IsBackground = true, Name = $"notebook {label}" };
        worker.Start();
        if (!worker.Join(timeout ?? Timeout.InfiniteTimeSpan))
        {
            // .NET cannot abort a thread: the cell is abandoned (a background thread ends with the process).
            var limit = timeout!.Value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            return (state, cellOptions, Fail(session, "TimeoutError", $"{label}: did not finish within {limit} s (--timeout-per-cell); run stopped", null));
        }
        if (thrown is not null)
        {
            var e = Unwrap(thrown);
            // The cell's own frames (and what it called); the runner's and Roslyn's frames below them say nothing.
            var traceback = (e.StackTrace ?? "").Split('\n').Select(l => l.TrimEnd())
                .TakeWhile(l => !l.StartsWith("--- End of stack trace") && !l.Contains(" Microsoft.CodeAnalysis.Scripting."))
                .Where(l => l.Length > 0).ToList();
            return (state, cellOptions, Fail(session, e.GetType().FullName ?? e.GetType().Name, $"{label}: {e.Message}", traceback));
        }

        if (prepared.Timed) session.Write("stdout", $"Wall time: {clock.Elapsed.TotalMilliseconds:F1}ms\n");
        if (next!.ReturnValue is { } value)
        {
            var data = session.Formatter.Format(value);
            session.Add(Scripting.NotebookKernel.Output("execute_result", data, executionCount));
        }
        return (next, cellOptions, null);
    }

    static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
            else if (e is TargetInvocationException { InnerException: { } inner }) e = inner;
            else return e;
        }
    }

    /// <summary>Adds the error output (nbformat: ename, evalue, traceback) and returns the one-line message.</summary>
    static string Fail(CellSession session, string ename, string evalue, IReadOnlyList<string>? details)
    {
        var traceback = new JsonArray($"{ename}: {evalue}");
        foreach (var line in details ?? []) traceback.Add(line);
        session.Add(new JsonObject { ["output_type"] = "error", ["ename"] = ename, ["evalue"] = evalue, ["traceback"] = traceback });
        return $"{ename}: {evalue}";
    }

    static ScriptOptions BaseOptions(string directory)
    {
        // The framework's own assemblies (System.*, Microsoft.*), as the kernel references them, plus the carried ones.
        var runtimeDir = RuntimeEnvironment.GetRuntimeDirectory();
        var framework = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => p.StartsWith(runtimeDir, StringComparison.Ordinal) && p.EndsWith(".dll"))
            .Where(p => !Path.GetFileName(p).StartsWith("Microsoft.VisualBasic", StringComparison.Ordinal))
            .Select(p => MetadataReference.CreateFromFile(p));
        return ScriptOptions.Default
            .WithReferences(framework)
            .AddReferences(CarriedAssemblies)
            .WithImports(DefaultUsings.Append("Bat.Notebooks.Scripting.NotebookKernel"))
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(directory))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(directory))
            .WithEmitDebugInformation(true)
            .WithFileEncoding(Encoding.UTF8)
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithAllowUnsafe(true);
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
