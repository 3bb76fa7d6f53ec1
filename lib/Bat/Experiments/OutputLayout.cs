using Bat.Data;
using Bat.Training;

namespace Bat.Experiments;

/// <summary>
/// Where a reproduction's files go under its output folder (the notebooks' <c>OutDir</c>, `bat reproduce --out`):
/// <code>
/// data/synth/                          the embedded benchmark, made on demand
/// 01-frontend/                         notebook 01's spectrograms, statistics and results.csv
/// pretrain/{variant}/                  notebook 02's runs (config.json, metrics.csv, checkpoints/); pretrain/summary.csv
/// embeddings/{variant}/{task-key}/     frozen layer embeddings shared by notebooks 03 and 04
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

    public string PretrainRun(string variant) => Path.Combine(Root, "pretrain", variant);

    public string PretrainSummary => Path.Combine(Root, "pretrain", "summary.csv");

    public string Notebooks => Path.Combine(Root, "notebooks");

    /// <summary>Notebook 02's run of a variant; a clear error naming the folder when it has no checkpoint.</summary>
    public string RequirePretrainRun(string variant)
    {
        var runDir = PretrainRun(variant);
        if (!Directory.Exists(Checkpoint.Folder(runDir)) || !Checkpoint.All(runDir).Any())
            throw new BatException(Path.GetFullPath(runDir),
                $"no pre-trained '{variant}' checkpoint here: run notebooks/02-pretrain.ipynb first with the same Preset and OutDir");
        return runDir;
    }

    /// <summary>{Root}/embeddings/{variant}/{manifest}-{manifest SHA-256 prefix}-{checkpoint SHA-256 prefix}: a
    /// re-trained checkpoint or another manifest of the same name gets a fresh folder instead of clashing with the old cache.</summary>
    public string Embeddings(string variant, string manifestCsv, CheckpointSource checkpoint) =>
        Path.Combine(Root, "embeddings", variant,
            $"{Path.GetFileNameWithoutExtension(manifestCsv)}-{Manifest.Sha256(manifestCsv)[..8]}-{checkpoint.Sha256[..12]}");
}
