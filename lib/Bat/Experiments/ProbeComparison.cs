using Bat.Data;
using Bat.Pretraining;
using Bat.Reporting;

namespace Bat.Probing;

/// <summary>One point of the K sweep (paper Figure 2).</summary>
public sealed record KSweepPoint(int K, double Score, long Parameters, double TrainSeconds);

/// <summary>One cell of our Table 5: a probe (or fine-tuning) on one pre-trained model and one task.</summary>
public sealed record ProbeComparison(string Dataset, string Model, string Probe, string Metric, double Score, long Parameters, double TrainSeconds);

/// <summary>
/// Notebook 03's work, so the notebook only calls and charts: (a) CGP score vs number of prototypes K
/// (paper Figure 2) on the primary task, (b) LP / LCGP / H2T / PB / CGP / fine-tuning on every task for
/// notebook 02's checkpoints (paper Table 5 at our scale). The tasks are the embedded benchmark's multi-label
/// task or a folder's manifests (<see cref="ExperimentData"/>). Results go to {OutDir}/03-cgp-ablation/ as
/// shared-schema CSVs; embeddings are cached under {OutDir}/embeddings/{variant}/.
/// </summary>
public static class CgpAblation
{
    public const string Experiment = "03-cgp-ablation";
    public static readonly string[] Table5Probes = ["lp", "lcgp", "h2t", "pb", "cgp", ProbeCatalog.FineTune];

    public static string ResultsDir(string outDir) => Path.Combine(outDir, Experiment);

    /// <summary>Notebook 02's run of a variant; a clear error naming the folder when it is not there.</summary>
    public static string RequireRun(string outDir, string variant)
    {
        var runDir = Path.Combine(outDir, "pretrain", variant);
        if (!Directory.Exists(Checkpoint.Folder(runDir)) || !Checkpoint.All(runDir).Any())
            throw new BatException(Path.GetFullPath(runDir),
                $"no pre-trained '{variant}' checkpoint here: run notebooks/02-pretrain.ipynb first with the same Preset and OutDir");
        return runDir;
    }

    /// <summary>{OutDir}/embeddings/{variant}/{manifest}-{manifest SHA-256 prefix}-{checkpoint SHA-256 prefix}: a
    /// re-trained checkpoint or another manifest of the same name gets a fresh folder instead of clashing with the old cache.</summary>
    public static string CacheDir(string outDir, string variant, string manifestCsv) =>
        Path.Combine(outDir, "embeddings", variant,
            $"{Path.GetFileNameWithoutExtension(manifestCsv)}-{Manifest.Sha256(manifestCsv)[..8]}-{CheckpointSource.Resolve(RequireRun(outDir, variant)).Sha256[..12]}");

    /// <summary>The K values of Figure 2 for a preset: a log2 grid (smoke: three points, tiny: 1..1024, small and base: 1..8192).</summary>
    public static int[] KGrid(string preset) => preset switch
    {
        "smoke" => [2, 8, 32],
        "tiny" => Enumerable.Range(0, 11).Select(i => 1 << i).ToArray(),
        _ => Enumerable.Range(0, 14).Select(i => 1 << i).ToArray(),
    };

    /// <summary>Figure 2: one CGP per K on the variant's cached features of the primary task; rows written to k-sweep.csv.</summary>
    public static IReadOnlyList<KSweepPoint> SweepK(string preset, string outDir, ExperimentData data, string variant, IEnumerable<int> ks, int seed = 0)
    {
        var runDir = RequireRun(outDir, variant);
        var manifest = data.PrimaryTask;
        using var session = ProbeExperiment.Open(runDir, manifest, CacheDir(outDir, variant, manifest));
        var config = ProbeTrainingConfig.Preset(preset) with { Seed = seed };
        var points = new List<KSweepPoint>();
        var rows = new List<ResultRow>();
        foreach (var k in ks)
        {
            var run = ProbeExperiment.Run(session.Task, "cgp", k, config);
            points.Add(new KSweepPoint(k, run.Test[session.Task.SelectionMetric], run.Parameters, run.TrainSeconds));
            rows.AddRange(ProbeResults.Rows(run, Experiment + "/k-sweep", session.Task.Name, variant, k, seed, preset));
        }
        ResultsTable.Write(Path.Combine(ResultsDir(outDir), "k-sweep.csv"), rows);
        return points;
    }

    /// <summary>Table 5 at our scale: every probe (and fine-tuning) on each variant and task; rows written to table5.csv.</summary>
    public static IReadOnlyList<ProbeComparison> CompareProbes(string preset, string outDir, ExperimentData data, IEnumerable<string> variants,
        IEnumerable<string>? probes = null, int? prototypes = null, int seed = 0)
    {
        int k = prototypes ?? ProbeCatalog.DefaultPrototypes(preset);
        var probeConfig = ProbeTrainingConfig.Preset(preset) with { Seed = seed };
        var fineConfig = FineTuneConfig.Preset(preset) with { Seed = seed };
        var chosen = (probes ?? Table5Probes).ToList();
        var results = new List<ProbeComparison>();
        var rows = new List<ResultRow>();
        var models = variants.ToList();
        foreach (var (manifest, variant) in data.ProbeManifests.SelectMany(m => models.Select(v => (m, v))))
        {
            var runDir = RequireRun(outDir, variant);
            using var session = ProbeExperiment.Open(runDir, manifest, CacheDir(outDir, variant, manifest));
            string metric = session.Task.SelectionMetric;
            foreach (var probe in chosen)
            {
                var run = probe == ProbeCatalog.FineTune
                    ? ProbeExperiment.FineTune(runDir, manifest, fineConfig)
                    : ProbeExperiment.Run(session.Task, probe, k, probeConfig);
                results.Add(new ProbeComparison(session.Task.Name, variant, probe, metric, run.Test[metric], run.Parameters, run.TrainSeconds));
                rows.AddRange(ProbeResults.Rows(run, Experiment + "/table5", session.Task.Name, variant, k, seed, preset));
            }
        }
        ResultsTable.Write(Path.Combine(ResultsDir(outDir), "table5.csv"), rows);
        return results;
    }

    /// <summary>The paper's Table 5 (GPU scale, AudioSet and friends), written to paper-table5.csv; never mixed with ours.</summary>
    public static IReadOnlyList<PaperNumber> PaperTable5(string outDir)
    {
        var numbers = PaperResults.Table5;
        var lines = new List<string> { "source,table,model,benchmark,method,metric,value" };
        lines.AddRange(numbers.Select(n => FormattableString.Invariant($"paper,{n.Table},{n.Model},{n.Benchmark},{n.Method},{n.Metric},{n.Value}")));
        AtomicFile.WriteAllText(Path.Combine(ResultsDir(outDir), "paper-table5.csv"), string.Join("\n", lines) + "\n");
        return numbers;
    }
}
