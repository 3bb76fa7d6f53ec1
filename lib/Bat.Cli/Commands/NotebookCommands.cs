using System.CommandLine;
using System.Globalization;
using Bat.Notebooks;

namespace Bat.Cli.Commands;

/// <summary>`bat notebook run`: executes Polyglot C# notebooks headless (CI, servers) and writes the results.</summary>
public static class NotebookCommands
{
    public static Command Create()
    {
        var command = new Command("notebook", "Run Polyglot C# notebooks without VS Code.");
        command.Subcommands.Add(CreateRun());
        return command;
    }

    static Command CreateRun()
    {
        var notebooks = new Argument<string[]>("notebooks") { Description = "Notebook files (.ipynb), run in the order given.", Arity = ArgumentArity.OneOrMore };
        var outDir = new Option<string?>("--out") { Description = "Folder for the executed NAME.ipynb (and NAME.html). Default: beside each input as NAME.out.ipynb / NAME.out.html." };
        var html = new Option<bool>("--html") { Description = "Also write a standalone HTML page per notebook (offline: plotly.js inlined)." };
        var parameters = new Option<string[]>("--param")
        {
            Description = "Override a parameter of the cell tagged \"parameters\": Name=Value (repeatable).",
            AllowMultipleArgumentsPerToken = false,
        };
        var timeout = new Option<double?>("--timeout-per-cell") { Description = "Stop the run when one cell takes longer than this many seconds." };
        var command = new Command("run", "Execute notebooks cell by cell; exit 0 if all succeed, 2 if a cell fails (the executed notebook is written either way).")
        {
            notebooks, outDir, html, parameters, timeout,
        };
        command.SetGuardedAction(parse =>
        {
            var values = new Dictionary<string, string>();
            foreach (var p in parse.GetValue(parameters) ?? [])
            {
                int eq = p.IndexOf('=');
                if (eq <= 0) throw new ArgumentException($"--param '{p}': expected Name=Value");
                values[p[..eq].Trim()] = p[(eq + 1)..];
            }
            var seconds = parse.GetValue(timeout);
            if (seconds is <= 0) throw new ArgumentException("--timeout-per-cell must be positive");
            var options = new NotebookRunOptions
            {
                OutDir = parse.GetValue(outDir),
                Html = parse.GetValue(html),
                Parameters = values,
                CellTimeout = seconds is { } s ? TimeSpan.FromSeconds(s) : null,
            };
            // Where the executed notebooks go is checked before any cell runs.
            foreach (var path in parse.GetValue(notebooks)!)
                Preflight.EnsureWritable(options.OutDir ?? Path.GetDirectoryName(Path.GetFullPath(path))!);
            foreach (var path in parse.GetValue(notebooks)!)
            {
                var result = NotebookRunner.Run(path, options);
                if (!result.Succeeded)
                {
                    Console.Error.WriteLine($"error: {path}: {result.Error} (executed notebook: {result.OutputNotebook})");
                    return 2;
                }
            }
            return 0;
        });
        return command;
    }
}
