using Bat.Data;
using Bat.Probing;
using Bat.Reporting;
using Bat.Training;

namespace Bat.Experiments;

/// <summary>One point of the K sweep (paper Figure 2).</summary>
public sealed record KSweepPoint(int K, double Score, long Parameters, double TrainSeconds);

/// <summary>One cell of our Table 5: a probe (or fine-tuning) on one pre-trained model and one task.</summary>
public sealed record Table5Cell(string Dataset, string Model, string Probe, string Metric, double Score, long Parameters, double TrainSeconds);

/// <summary>
/// Notebook 03's work, so the notebook only calls and charts: (a) CGP score vs number of prototypes K
/// (paper Figure 2) on the primary task, (b) LP / LCGP / H2T / PB / CGP / fine-tuning on every task for
/// notebook 02's checkpoints (paper Table 5 at our scale). The tasks are the embedded benchmark's multi-label
/// task or a folder's manifests (<see cref="ExperimentData"/>). Results go to {OutDir}/03-cgp-ablation/ as
/// shared-schema CSVs; embeddings are cached under {OutDir}/embeddings/{variant}/ (<see cref="OutputLayout"/>).
/// </summary>
public static class ProbeComparison
{
    public const string Experiment = OutputLayout.ProbeExperiment;
    public static readonly string[] Table5Probes = ["lp", "lcgp", "h2t", "pb", "cgp", ProbeCatalog.FineTune];

    public static string ResultsDir(string outDir) => new OutputLayout(outDir).Results(Experiment);

    /// <summary>The K values of Figure 2: notebook 03's comma-separated <c>Ks</c>, or the preset's log2 grid when it is empty.</summary>
    public static IReadOnlyList<int> KGrid(Preset preset, string ks) =>
        string.IsNullOrWhiteSpace(ks)
            ? preset.KGrid
            : ks.Split(',').Select(s => int.TryParse(s.Trim(), out var k) && k > 0 ? k
                : throw new BatException("Ks", $"'{s.Trim()}' is not a positive whole number (comma-separated K values, e.g. 1,16,256)")).ToList();

    /// <summary>Figure 2: one CGP per K on the variant's cached features of the primary task; rows written to k-sweep.csv.</summary>
    public static IReadOnlyList<KSweepPoint> SweepK(Preset preset, string outDir, ExperimentData data, string variant, IEnumerable<int> ks, int seed = 0)
    {
        var layout = new OutputLayout(outDir);
        var checkpoint = CheckpointSource.Resolve(layout.RequirePretrainRun(variant));
        var manifest = data.PrimaryTask;
        using var session = ProbeExperiment.Open(checkpoint, manifest, layout.Embeddings(variant, manifest, checkpoint));
        var config = preset.Probing with { Seed = seed };
        var points = new List<KSweepPoint>();
        var rows = new List<ResultRow>();
        foreach (var k in ks)
        {
            var run = ProbeExperiment.Run(session.Task, "cgp", k, config);
            points.Add(new KSweepPoint(k, run.Test[session.Task.SelectionMetric], run.Parameters, run.TrainSeconds));
            rows.AddRange(ProbeResults.Rows(run, Experiment + "/k-sweep", session.Task.Name, variant, k, seed, preset.Name));
        }
        ResultsTable.Write(Path.Combine(layout.Results(Experiment), "k-sweep.csv"), rows);
        return points;
    }

    /// <summary>Table 5 at our scale: every probe (and fine-tuning) on each variant and task; rows written to table5.csv.</summary>
    public static IReadOnlyList<Table5Cell> CompareProbes(Preset preset, string outDir, ExperimentData data, IEnumerable<string> variants,
        IEnumerable<string>? probes = null, int? prototypes = null, int seed = 0)
    {
        var layout = new OutputLayout(outDir);
        int k = prototypes ?? preset.Prototypes;
        var probeConfig = preset.Probing with { Seed = seed };
        var fineConfig = preset.FineTuning with { Seed = seed };
        var chosen = (probes ?? Table5Probes).ToList();
        var results = new List<Table5Cell>();
        var rows = new List<ResultRow>();
        var models = variants.Select(v => (Variant: v, Checkpoint: CheckpointSource.Resolve(layout.RequirePretrainRun(v)))).ToList();
        foreach (var (manifest, (variant, checkpoint)) in data.ProbeManifests.SelectMany(m => models.Select(v => (m, v))))
        {
            using var session = ProbeExperiment.Open(checkpoint, manifest, layout.Embeddings(variant, manifest, checkpoint));
            string metric = session.Task.SelectionMetric;
            foreach (var probe in chosen)
            {
                var run = probe == ProbeCatalog.FineTune
                    ? ProbeExperiment.FineTune(checkpoint, manifest, fineConfig)
                    : ProbeExperiment.Run(session.Task, probe, k, probeConfig);
                results.Add(new Table5Cell(session.Task.Name, variant, probe, metric, run.Test[metric], run.Parameters, run.TrainSeconds));
                rows.AddRange(ProbeResults.Rows(run, Experiment + "/table5", session.Task.Name, variant, k, seed, preset.Name));
            }
        }
        ResultsTable.Write(Path.Combine(layout.Results(Experiment), "table5.csv"), rows);
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
