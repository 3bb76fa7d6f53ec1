using Bat.Data;
using Bat.Frontends;
using Bat.Probing;
using Bat.Reporting;
using Bat.Training;

namespace Bat.Experiments;

/// <summary>One point of the K sweep (paper Figure 2) for one model.</summary>
public sealed record KSweepPoint(string Model, int K, double Score, long Parameters, double TrainSeconds);

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

    /// <summary>The model name of the non-learned log-mel baseline's rows.</summary>
    public const string Baseline = "baseline";

    /// <summary>Every pre-trained score of Table 5 against the untrained control's (rows of table5.csv).</summary>
    public static IReadOnlyList<ControlMargin> Margins(string outDir) =>
        ControlMargins.From(ResultsTable.Read(Path.Combine(ResultsDir(outDir), "table5.csv")));

    public static string ResultsDir(string outDir) => new OutputLayout(outDir).Results(Experiment);

    /// <summary>The K values of Figure 2: notebook 03's comma-separated <c>Ks</c>, or the preset's log2 grid when it is empty.</summary>
    public static IReadOnlyList<int> KGrid(Preset preset, string ks) =>
        string.IsNullOrWhiteSpace(ks)
            ? preset.KGrid
            : ks.Split(',').Select(s => int.TryParse(s.Trim(), out var k) && k > 0 ? k
                : throw new BatException("Ks", $"'{s.Trim()}' is not a positive whole number (comma-separated K values, e.g. 1,16,256)")).ToList();

    /// <summary>
    /// Figure 2: one CGP per K on each variant's cached embeddings of the primary task (a curve per variant: the
    /// untrained control beside the pre-trained model); rows written to k-sweep.csv.
    /// </summary>
    public static IReadOnlyList<KSweepPoint> SweepK(Preset preset, string outDir, ExperimentData data, IEnumerable<string> variants, IEnumerable<int> ks, int seed = 0)
    {
        var layout = new OutputLayout(outDir);
        var manifest = data.PrimaryTask;
        var config = preset.Probing with { Seed = seed };
        var points = new List<KSweepPoint>();
        var rows = new List<ResultRow>();
        var grid = ks.ToList();
        foreach (var variant in variants)
        {
            var checkpoint = CheckpointSource.Resolve(layout.RequireRun(variant));
            using var session = ProbeExperiment.Open(checkpoint, manifest, layout.Embeddings(variant, manifest, checkpoint));
            foreach (var k in grid)
            {
                var run = ProbeExperiment.Run(session.Task, "cgp", k, config);
                points.Add(new KSweepPoint(OutputLayout.ModelName(variant), k, run.Test[session.Task.SelectionMetric], run.Parameters, run.TrainSeconds));
                rows.AddRange(ProbeResults.Rows(run, Experiment + "/k-sweep", session.Task.Name, OutputLayout.ModelName(variant), k, seed, preset.Name));
            }
        }
        ResultsTable.Write(Path.Combine(layout.Results(Experiment), "k-sweep.csv"), rows);
        return points;
    }

    /// <summary>
    /// Table 5 at our scale: every probe (and fine-tuning) on each variant and task, and once per task the
    /// non-learned log-mel baseline (model "baseline", probe "logmel-lr", on the BAT frontend at the preset's
    /// input size); rows written to table5.csv. Pass the untrained control among the variants so every score
    /// can be read against it (<see cref="ControlMargins"/>). <paramref name="table"/> names the CSV and the
    /// experiment of the rows ("table5" for notebook 03; `bat bench learn` writes its own).
    /// </summary>
    public static IReadOnlyList<Table5Cell> CompareProbes(Preset preset, string outDir, ExperimentData data, IEnumerable<string> variants,
        IEnumerable<string>? probes = null, int? prototypes = null, int seed = 0, bool baseline = true, string table = "table5")
    {
        var layout = new OutputLayout(outDir);
        int k = prototypes ?? preset.Prototypes;
        var probeConfig = preset.Probing with { Seed = seed };
        var fineConfig = preset.FineTuning with { Seed = seed };
        var chosen = (probes ?? Table5Probes).ToList();
        var results = new List<Table5Cell>();
        var rows = new List<ResultRow>();
        var models = variants.Select(v => (Variant: v, Checkpoint: CheckpointSource.Resolve(layout.RequireRun(v)))).ToList();
        foreach (var (manifest, (variant, checkpoint)) in data.ProbeManifests.SelectMany(m => models.Select(v => (m, v))))
        {
            using var session = ProbeExperiment.Open(checkpoint, manifest, layout.Embeddings(variant, manifest, checkpoint));
            string metric = session.Task.SelectionMetric;
            foreach (var probe in chosen)
            {
                var run = probe == ProbeCatalog.FineTune
                    ? ProbeExperiment.FineTune(checkpoint, manifest, fineConfig)
                    : ProbeExperiment.Run(session.Task, probe, k, probeConfig);
                results.Add(new Table5Cell(session.Task.Name, OutputLayout.ModelName(variant), probe, metric, run.Test[metric], run.Parameters, run.TrainSeconds));
                rows.AddRange(ProbeResults.Rows(run, Experiment + "/" + table, session.Task.Name, OutputLayout.ModelName(variant), k, seed, preset.Name));
            }
        }
        if (baseline)
            foreach (var manifest in data.ProbeManifests)
            {
                var run = LogMelBaseline.Run(manifest, FrontendConfig.For(FrontendConfig.Bat, preset.Encoder.MelBins, preset.Encoder.Frames), probeConfig);
                string dataset = Manifest.Load(manifest).Task.Name, metric = run.SelectionMetric;
                results.Add(new Table5Cell(dataset, Baseline, run.Probe, metric, run.Test[metric], run.Parameters, run.TrainSeconds));
                rows.AddRange(ProbeResults.Rows(run, Experiment + "/" + table, dataset, Baseline, null, seed, preset.Name));
            }
        ResultsTable.Write(Path.Combine(layout.Results(Experiment), table + ".csv"), rows);
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
