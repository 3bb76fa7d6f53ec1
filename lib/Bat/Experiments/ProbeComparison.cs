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

    /// <summary>The same on macro F1 for the single-label tasks (<see cref="ControlMargins.MacroF1"/>).</summary>
    public static IReadOnlyList<ControlMargin> MacroF1Margins(string outDir) =>
        ControlMargins.MacroF1(ResultsTable.Read(Path.Combine(ResultsDir(outDir), "table5.csv")));

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
        var points = new List<KSweepPoint>();
        var rows = new List<ResultRow>();
        var grid = ks.ToList();
        foreach (var variant in variants)
        {
            var checkpoint = CheckpointSource.Resolve(layout.RequireRun(variant));
            var config = preset.RecipeFor(manifest, checkpoint, seed).Probing;   // the task's hold-out recipe (no folds: one CGP per K)
            using var session = ProbeExperiment.Open(checkpoint, manifest, layout.Embeddings(variant, manifest, checkpoint));
            foreach (var k in grid)
            {
                var run = ProbeExperiment.Run(session, "cgp", k, config);
                points.Add(new KSweepPoint(OutputLayout.ModelName(variant), k, run.Test[session.Task.SelectionMetric], run.Parameters, run.TrainSeconds));
                rows.AddRange(ProbeResults.Rows(run, Experiment + "/k-sweep", session.Task.Name, OutputLayout.ModelName(variant), k, seed, preset.Name));
            }
        }
        ResultsTable.Write(Path.Combine(layout.Results(Experiment), "k-sweep.csv"), rows);
        return points;
    }

    /// <summary>
    /// Table 5 at our scale: every probe (and fine-tuning) on each variant and task, each task with its official
    /// recipe (<see cref="TaskRecipe"/>: its own input length and normalisation, schedule, selection, and the
    /// 5-fold cross-validation mean for an ESC-50-layout manifest), and once per clip task the non-learned log-mel
    /// baseline (model "baseline", probe "logmel-lr", on the BAT frontend at the task's length; none for an
    /// event-labelled task, <see cref="LogMelBaseline.Reads"/>); rows written to
    /// table5.csv, each task's recipe and input to recipes.json. Pass the untrained control among the variants so
    /// every score can be read against it (<see cref="ControlMargins"/>). <paramref name="table"/> names the CSV
    /// and the experiment of the rows ("table5" for notebook 03; `bat bench learn` writes its own).
    /// <paramref name="weights"/>: which encoder of each pre-trained checkpoint is probed (recorded in recipes.json);
    /// a control reads its student, which at step 0 is its teacher.
    /// </summary>
    public static IReadOnlyList<Table5Cell> CompareProbes(Preset preset, string outDir, ExperimentData data, IEnumerable<string> variants,
        IEnumerable<string>? probes = null, int? prototypes = null, int seed = 0, bool baseline = true, string table = "table5",
        EncoderWeights weights = EncoderWeights.Student)
    {
        var layout = new OutputLayout(outDir);
        int k = prototypes ?? preset.Prototypes;
        var chosen = (probes ?? Table5Probes).ToList();
        var results = new List<Table5Cell>();
        var rows = new List<ResultRow>();
        var plans = new List<RecipeRecord>();
        var models = variants.Select(v => (Variant: v,
            Checkpoint: CheckpointSource.Resolve(layout.RequireRun(v), PretrainVariant.IsControlName(v) ? EncoderWeights.Student : weights))).ToList();
        foreach (var (manifest, (variant, checkpoint)) in data.ProbeManifests.SelectMany(m => models.Select(v => (m, v))))
        {
            var recipe = preset.RecipeFor(manifest, checkpoint, seed);
            string model = OutputLayout.ModelName(variant), experiment = Experiment + "/" + table;
            var cacheDir = layout.Embeddings(variant, manifest, checkpoint);
            if (recipe.Folds.Count > 0)
            {
                var folds = recipe.ForFolds();
                using var cv = ProbeExperiment.OpenFolds(checkpoint, manifest, cacheDir);
                string dataset = cv.Session.Manifest.Task.Name, metric = cv.Folds[0].Task.SelectionMetric;
                plans.Add(new RecipeRecord(dataset, model, Describe(folds, checkpoint), cv.Session.Input.Frontend));
                foreach (var probe in chosen)
                {
                    var run = probe == ProbeCatalog.FineTune
                        ? new CrossValidationResult(folds.Folds.Select(f => new FoldRun(f, ProbeExperiment.FineTune(checkpoint, manifest, folds.FineTuning, testFold: f, normCacheDir: cacheDir))).ToList())
                        : ProbeExperiment.RunFolds(cv, probe, k, folds.Probing, remember: true);
                    results.Add(new Table5Cell(dataset, model, probe, metric, run.Mean[metric], run.Folds[0].Result.Parameters, run.Folds.Sum(f => f.Result.TrainSeconds)));
                    rows.AddRange(ProbeResults.FoldRows(run, experiment, dataset, model, k, seed, preset.Name));
                }
                continue;
            }
            using var session = ProbeExperiment.Open(checkpoint, manifest, cacheDir);
            string taskMetric = session.Task.SelectionMetric;
            plans.Add(new RecipeRecord(session.Task.Name, model, Describe(recipe, checkpoint), session.Input.Frontend));
            foreach (var probe in chosen)
            {
                var run = probe == ProbeCatalog.FineTune
                    ? ProbeExperiment.FineTune(checkpoint, manifest, recipe.FineTuning, normCacheDir: cacheDir)
                    : ProbeExperiment.Run(session, probe, k, recipe.Probing);
                results.Add(new Table5Cell(session.Task.Name, model, probe, taskMetric, run.Test[taskMetric], run.Parameters, run.TrainSeconds));
                rows.AddRange(ProbeResults.Rows(run, experiment, session.Task.Name, model, k, seed, preset.Name));
            }
        }
        if (baseline)
            foreach (var manifest in data.ProbeManifests.Where(m => LogMelBaseline.Reads(Manifest.Load(m).Task)))
            {
                var recipe = preset.RecipeFor(manifest, seed);
                var run = LogMelBaseline.Run(manifest, FrontendConfig.For(FrontendConfig.Bat, preset.Encoder.MelBins, recipe.Frames), recipe.Probing);
                string dataset = Manifest.Load(manifest).Task.Name, metric = run.SelectionMetric;
                results.Add(new Table5Cell(dataset, Baseline, run.Probe, metric, run.Test[metric], run.Parameters, run.TrainSeconds));
                rows.AddRange(ProbeResults.Rows(run, Experiment + "/" + table, dataset, Baseline, null, seed, preset.Name));
            }
        ResultsTable.Write(Path.Combine(layout.Results(Experiment), table + ".csv"), rows);
        Json.Save(Path.Combine(layout.Results(Experiment), RecipesFile), plans);
        return results;
    }

    /// <summary>The file beside table5.csv that records each task's recipe and input (frontend, length, normalisation constants).</summary>
    public const string RecipesFile = "recipes.json";

    /// <summary>A model's recipe as recipes.json records it, with the encoder read when it is not the student.</summary>
    static Dictionary<string, string> Describe(TaskRecipe recipe, CheckpointSource checkpoint)
    {
        var described = recipe.Describe(checkpoint.Encoder).ToDictionary(d => d.Choice, d => d.Value);
        if (checkpoint.WeightsMark is { } mark) described["encoder weights"] = mark;
        return described;
    }

    /// <summary>
    /// The plan table of notebook 03: one row per task and recipe choice (input length, evaluation, probe and
    /// fine-tuning schedules, the preset's scale and why), for this preset's encoder and the BAT frontend.
    /// </summary>
    public static IReadOnlyList<(string Task, string Choice, string Value)> Plan(Preset preset, ExperimentData data) =>
        data.ProbeManifests.SelectMany(m =>
        {
            var recipe = preset.RecipeFor(m);
            return recipe.Describe(preset.Encoder).Select(d => (recipe.Task, d.Choice, d.Value));
        }).ToList();

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

/// <summary>What recipes.json holds per task and model: the recipe's choices and the frontend the encoder was fed (its length and normalisation constants).</summary>
public sealed record RecipeRecord(string Task, string Model, IReadOnlyDictionary<string, string> Recipe, FrontendConfig Input);
