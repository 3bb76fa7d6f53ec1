using System.CommandLine;
using Bat.Experiments;
using Bat.Notebooks;

namespace Bat.Cli.Commands;

/// <summary>`bat reproduce`: the main job (all four notebooks, the report, every CSV).</summary>
public static class ReproduceCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset")
        {
            Description = $"{string.Join(" | ", Preset.Names)}: smoke (CI, a few minutes), tiny (default, about 40 minutes on 2 CPU cores), small, base (the paper's ViT-B; GPU).",
            DefaultValueFactory = _ => Preset.Tiny.Name,
        };
        var data = new Option<string>("--data")
        {
            Description = "'synth' (the embedded benchmark, made on demand), 'synth-wide' (that plus a second task scored on 450 test clips) or a folder of manifests from `bat data ...`: " +
                          "an optional pretrain.csv plus one manifest per probing task; the first task in name order is the primary one (README).",
            DefaultValueFactory = _ => "synth",
        };
        var outDir = new Option<string>("--out") { Description = "Output folder: executed notebooks, HTML report, CSVs.", DefaultValueFactory = _ => "results" };
        var force = new Option<bool>("--force") { Description = "Rerun notebooks that already finished with the same parameters." };
        var notebooks = new Option<string?>("--notebooks") { Description = "Folder with the four .ipynb files (default: the repository's notebooks/)." };
        var timeout = new Option<double?>("--timeout-per-cell") { Description = "Stop when one cell takes longer than this many seconds." };
        var retries = new Option<int>("--native-retries")
        {
            Description = "Run a notebook again this many times when it dies of a native libtorch error (environment.md).",
            DefaultValueFactory = _ => 1,
        };
        var command = new Command("reproduce", "Run notebooks 01-04 with one preset and write the report (index.html), executed notebooks and CSVs.")
        {
            preset, data, outDir, force, notebooks, timeout, retries,
        };
        command.SetGuardedAction(parse =>
        {
            var result = Reproduction.Run(new ReproduceOptions
            {
                Preset = parse.GetValue(preset)!,
                Data = parse.GetValue(data)!,
                OutDir = parse.GetValue(outDir)!,
                Force = parse.GetValue(force),
                NotebooksDir = parse.GetValue(notebooks) ?? FindNotebooks(),
                CellTimeout = parse.GetValue(timeout) is { } s ? TimeSpan.FromSeconds(s) : null,
                NativeRetries = Math.Max(0, parse.GetValue(retries)),
            }, Console.Error);
            return result.Succeeded ? 0 : 2;
        });
        return command;
    }

    /// <summary>The repository's notebooks/ folder: from the working directory up, then from the program's folder up.</summary>
    static string FindNotebooks()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "notebooks");
                if (File.Exists(Path.Combine(candidate, "01-frontend.ipynb"))) return candidate;
            }
        }
        throw new BatException("notebooks/", "cannot find the notebooks folder (run from the repository or pass --notebooks DIR)");
    }
}
