using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Bat.Experiments;

namespace Bat.Notebooks;

/// <summary>What `bat reproduce` runs: the preset, the data, where results go.</summary>
public sealed record ReproduceOptions
{
    /// <summary>smoke (CI, minutes), tiny (default, about 40 minutes on 2 cores), small, base (the paper's ViT-B; GPU).</summary>
    public string Preset { get; init; } = Experiments.Preset.Tiny.Name;
    /// <summary>"synth": the embedded benchmark, made on demand; "synth-wide": that plus the wide benchmark; or a folder of manifests (see Bat.Experiments.ExperimentData:
    /// an optional pretrain.csv plus one manifest per probing task, the first in name order being the primary task).</summary>
    public string Data { get; init; } = ExperimentData.Synth;
    public string OutDir { get; init; } = "results";
    /// <summary>Run notebooks again even when their finished marker says they are done.</summary>
    public bool Force { get; init; }
    /// <summary>Folder holding 01-frontend.ipynb ... 04-layerwise.ipynb.</summary>
    public string NotebooksDir { get; init; } = "notebooks";
    public TimeSpan? CellTimeout { get; init; }
    /// <summary>How often a notebook that died of a native libtorch error is run again (see environment.md:
    /// TorchSharp can hand libtorch a Scalar the GC has just freed). Other errors never retry.</summary>
    public int NativeRetries { get; init; } = 1;
}

public sealed record ReproduceResult(bool Succeeded, string? FailedNotebook, string? Error, string ReportPath, TimeSpan Elapsed);

/// <summary>
/// The main job: runs the four notebooks in order with one preset, writes the executed notebooks, their HTML,
/// every CSV, and one report page (index.html) with the headline numbers beside the paper's and the environment.
/// A notebook that finished with the same parameters is skipped, so a rerun after a failure resumes where it stopped.
/// </summary>
public static class Reproduction
{
    public static readonly IReadOnlyList<(string Name, string Reproduces)> Notebooks =
    [
        ("01-frontend", "Figure 3 / Table 2: legacy Kaldi fbank vs the BAT frontend"),
        ("02-pretrain", "EAT-style bootstrap pre-training of the ablation variants (EAT -> BAT)"),
        ("03-cgp-ablation", "Figure 2 (CGP vs number of prototypes) and Table 5 (LP, LCGP, H2T, PB, CGP, fine-tuning)"),
        ("04-layerwise", "Figure 4 (per-layer LP and CGP gate weights) and Figure 5 (attention with and without gating)"),
    ];

    public static ReproduceResult Run(ReproduceOptions options, TextWriter log)
    {
        var preset = Preset.Named(options.Preset);
        var clock = Stopwatch.StartNew();
        var outDir = Path.GetFullPath(options.OutDir);
        var notebooksOut = new OutputLayout(outDir).Notebooks;
        Preflight.EnsureWritable(outDir, preset.RequiredBytes);
        Directory.CreateDirectory(notebooksOut);
        var data = ExperimentData.IsGenerated(options.Data) ? options.Data : ExperimentData.FromFolder(options.Data).Source;

        string? failed = null, error = null;
        for (int i = 0; i < Notebooks.Count && failed is null; i++)
        {
            var (name, reproduces) = Notebooks[i];
            var source = Path.Combine(Path.GetFullPath(options.NotebooksDir), name + ".ipynb");
            if (!File.Exists(source)) throw new BatException(source, "notebook not found (run from the repository root or pass --notebooks)");
            var parameters = NotebookParametersFor(name, preset.Name, outDir, data);
            var markerKey = Json.Serialize(parameters);
            var marker = Path.Combine(notebooksOut, $".{name}.done.json");
            var prefix = $"[{i + 1}/{Notebooks.Count}] {name}";
            if (!options.Force && File.Exists(marker) && File.ReadAllText(marker) == markerKey
                && File.Exists(Path.Combine(notebooksOut, name + ".ipynb")))
            {
                log.WriteLine($"{prefix}: already done with these parameters, skipped (--force reruns it)");
                continue;
            }
            log.WriteLine($"{prefix}: running ({reproduces})");
            File.Delete(marker);
            var runOptions = new NotebookRunOptions
            {
                OutDir = notebooksOut,
                Html = true,
                Parameters = parameters,
                CellTimeout = options.CellTimeout,
                Log = log,
            };
            var result = NotebookRunner.Run(source, runOptions);
            for (int retry = 1; !result.Succeeded && IsNativeError(result.Error) && retry <= options.NativeRetries; retry++)
            {
                log.WriteLine($"{prefix}: native libtorch error ({FirstLine(result.Error)}); running it again ({retry}/{options.NativeRetries}), " +
                              "finished work inside it is reused (environment.md: TorchSharp and temporary Scalars)");
                result = NotebookRunner.Run(source, runOptions);
            }
            if (!result.Succeeded)
            {
                failed = name;
                error = result.Error;
                log.WriteLine($"{prefix}: FAILED: {result.Error}");
                log.WriteLine($"{prefix}: the executed notebook with the error is {result.OutputNotebook}; everything before it is kept");
                break;
            }
            AtomicFile.WriteAllText(marker, markerKey);
            log.WriteLine($"{prefix}: done in {FormatDuration(result.Elapsed)}");
        }

        var report = Path.Combine(outDir, "index.html");
        AtomicFile.WriteAllText(report, ReproductionReport.Render(outDir, options, failed, error, clock.Elapsed));
        log.WriteLine($"report: {report}");
        log.WriteLine($"total time: {FormatDuration(clock.Elapsed)}");
        return new ReproduceResult(failed is null, failed, error, report, clock.Elapsed);
    }

    /// <summary>An error raised inside libtorch (TorchSharp wraps those as ExternalException), not by our code.</summary>
    public static bool IsNativeError(string? error) =>
        error is not null && error.Contains("System.Runtime.InteropServices.ExternalException", StringComparison.Ordinal);

    static string FirstLine(string? text) => (text ?? "").Split('\n')[0].Trim();

    /// <summary>The notebooks that run on the chosen data (01 shows the frontends on its own clip).</summary>
    static readonly HashSet<string> DataNotebooks = ["02-pretrain", "03-cgp-ablation", "04-layerwise"];

    /// <summary>
    /// The parameters a notebook declares in its "parameters" cell. <paramref name="data"/> is "synth" or the
    /// folder of manifests as an absolute path (the notebooks run from their own folder), already checked by
    /// ExperimentData.FromFolder in <see cref="Run"/> so that a bad folder stops the job before hours of work.
    /// </summary>
    static Dictionary<string, string> NotebookParametersFor(string notebook, string preset, string outDir, string data)
    {
        var parameters = new Dictionary<string, string> { ["Preset"] = preset, ["OutDir"] = outDir };
        if (DataNotebooks.Contains(notebook)) parameters["Data"] = data;
        return parameters;
    }

    public static string FormatDuration(TimeSpan t) =>
        t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes} min {t.Seconds} s" : $"{t.TotalSeconds:F1} s";
}
