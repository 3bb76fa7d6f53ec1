using Bat.Data;
using Bat.Training;

namespace Bat.Experiments;

/// <summary>
/// Where a reproduction's files go under its output folder (the notebooks' <c>OutDir</c>, `bat reproduce --out`):
/// <code>
/// data/synth/                          the embedded benchmark, made on demand
/// 01-frontend/                         notebook 01's spectrograms, statistics and results.csv
/// pretrain/{variant}/                  notebook 02's runs (config.json, metrics.csv, checkpoints/); pretrain/summary.csv, learning-curve.csv, ablation.csv
/// embeddings/{model}/{task-key}/       frozen layer embeddings shared by notebooks 03 and 04
/// 03-cgp-ablation/                     k-sweep.csv, table5.csv, paper-table5.csv
/// 04-layerwise/                        layerwise.csv, attention maps, CLS shares
/// notebooks/                           the executed notebooks and their HTML (bat reproduce)
/// </code>
/// </summary>
public sealed record OutputLayout(string Root)
{
    public const string FrontendExperiment = "01-frontend";
    public const string ProbeExperiment = "03-cgp-ablation";
    public const string LayerwiseExperiment = "04-layerwise";

    /// <summary>The results folder of a notebook's experiment (e.g. {Root}/03-cgp-ablation).</summary>
    public string Results(string experiment) => Path.Combine(Root, experiment);

    public string SynthData => Path.Combine(Root, "data", "synth");
    public string SynthWideData => Path.Combine(Root, "data", "synth-wide");

    public string PretrainRun(string variant) => Path.Combine(Root, "pretrain", variant);

    public string PretrainSummary => Path.Combine(Root, "pretrain", "summary.csv");

    /// <summary>Notebook 02's learning curve: LP of every kept checkpoint against the untrained control.</summary>
    public string LearningCurve => Path.Combine(Root, "pretrain", "learning-curve.csv");

    /// <summary>Notebook 02's ablation table: LP and CGP of every variant and the control (<see cref="AblationTable"/>).</summary>
    public string Ablation => Path.Combine(Root, "pretrain", "ablation.csv");

    public string Notebooks => Path.Combine(Root, "notebooks");

    /// <summary>
    /// The models a notebook probes: notebook 02's <paramref name="variants"/>, or, when the notebook's Checkpoint
    /// parameter is set, its comma-separated run folders instead (e.g. the official weights via `bat import`).
    /// </summary>
    public static IReadOnlyList<string> Models(string checkpoint, params string[] variants) =>
        string.IsNullOrWhiteSpace(checkpoint)
            ? variants
            : checkpoint.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>A model is a variant name (notebook 02's run under pretrain/) or a run folder path.</summary>
    static bool IsRunPath(string model) => model.Contains('/') || model.Contains(Path.DirectorySeparatorChar) || model.StartsWith('.');

    /// <summary>The name a model's results and embeddings go under: the variant, or the run folder's name.</summary>
    public static string ModelName(string model) => IsRunPath(model) ? Path.GetFileName(Path.GetFullPath(model).TrimEnd('/')) : model;

    /// <summary>The run folder of a model (<see cref="Models"/>); a clear error naming the folder when it has no checkpoint.</summary>
    public string RequireRun(string model)
    {
        if (!IsRunPath(model)) return RequirePretrainRun(model);
        if (!Checkpoint.All(model).Any())
            throw new BatException(Path.GetFullPath(model), "no checkpoints/step-*.pt in this run folder (make one with `bat import` or `bat pretrain`)");
        return model;
    }

    /// <summary>Notebook 02's run of a variant; a clear error naming the folder when it has no checkpoint.</summary>
    public string RequirePretrainRun(string variant)
    {
        var runDir = PretrainRun(variant);
        if (!Directory.Exists(Checkpoint.Folder(runDir)) || !Checkpoint.All(runDir).Any())
            throw new BatException(Path.GetFullPath(runDir),
                $"no pre-trained '{variant}' checkpoint here: run notebooks/02-pretrain.ipynb first with the same Preset and OutDir");
        return runDir;
    }

    /// <summary>{Root}/embeddings/{variant}/{manifest}-{manifest SHA-256 prefix}-{checkpoint SHA-256 prefix}[-teacher]: a
    /// re-trained checkpoint, another manifest of the same name or the checkpoint's other encoder gets a fresh folder
    /// instead of clashing with the old cache.</summary>
    public string Embeddings(string variant, string manifestCsv, CheckpointSource checkpoint) =>
        Path.Combine(Root, "embeddings", ModelName(variant),
            $"{Path.GetFileNameWithoutExtension(manifestCsv)}-{Manifest.Sha256(manifestCsv)[..8]}-{checkpoint.Sha256[..12]}"
            + (checkpoint.WeightsMark is { } mark ? "-" + mark : ""));
}
