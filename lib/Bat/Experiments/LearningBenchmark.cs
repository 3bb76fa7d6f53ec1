using System.Globalization;
using Bat.Probing;
using Bat.Training;

namespace Bat.Experiments;

/// <summary>
/// `bat bench learn`: does pre-training teach the encoders anything at this preset? Pre-trains the untrained
/// control and the chosen variants (reusing complete runs in the output folder), then on every task of the data
/// probes each with LP, CGP and fine-tuning, adds the non-learned log-mel baseline, and checks the targets a
/// pre-training recipe must meet to be worth reading (docs/method.md, "Reading results against the control"):
/// LP at least 15 points and CGP at least 5 points above the untrained control, fine-tuning at least 10 points
/// above LP, and CGP above the log-mel baseline. Scores are each task's main metric (accuracy or mAP).
/// </summary>
public static class LearningBenchmark
{
    public const string Table = "learn";
    public static readonly string[] Probes = ["lp", "cgp", ProbeCatalog.FineTune];

    /// <summary>One target on one task: what was required, what was measured.</summary>
    public sealed record TargetCheck(string Dataset, string Model, string Target, double Required, double Measured)
    {
        public bool Met => Measured >= Required;
    }

    /// <summary>
    /// The scores (<see cref="Cells"/>, each task's main metric, mean over probe seeds), their margins over the
    /// control, the targets, and for single-label tasks the same on macro F1 (<see cref="ControlMargins.MacroF1"/>):
    /// <see cref="MacroF1"/> per (task, model, probe), mean over probe seeds.
    /// </summary>
    public sealed record Result(IReadOnlyList<Table5Cell> Cells, IReadOnlyList<ControlMargin> Margins, IReadOnlyList<TargetCheck> Targets)
    {
        public IReadOnlyDictionary<(string Dataset, string Model, string Probe), double> MacroF1 { get; init; } =
            new Dictionary<(string, string, string), double>();
        public IReadOnlyList<ControlMargin> MacroF1Margins { get; init; } = [];
    }

    /// <summary>
    /// Pre-trains with <paramref name="seed"/>, then probes every encoder with <paramref name="probeSeeds"/> probe seeds
    /// (seed, seed + 1, ...): scores and targets are the mean over them, and the margins' noise counts their spread
    /// (<see cref="ControlMargin"/>). One CGP training can move 12 points with its seed alone on a 128-clip task.
    /// With <paramref name="pretrainSeeds"/> above 1 the whole check runs once per pre-training seed (seed, seed + 1,
    /// ...; each in its own folder, <see cref="PretrainSeedDir"/>, every variant against the control of its own seed,
    /// with the same probe seeds), because one recipe pre-trained with another seed moves a margin by more than the
    /// probe seeds do (docs/method.md section 6). The margins are then read over the pre-training seeds: each seed's
    /// score is its mean over the probe seeds, and the noise band counts the spread of those means. OUT's learn.csv
    /// holds those means with the pre-training seed in its seed column; each seed's folder keeps its own rows.
    /// </summary>
    /// <param name="levers">changes to the levers (<see cref="PretrainingAblation.Run"/>; null: none)</param>
    /// <param name="weights">which encoder of each pre-trained run is probed: its student, or its EMA teacher (the
    /// same runs either way, so one folder holds both readings; its learn.csv and recipes.json hold the last)</param>
    public static Result Run(Preset preset, string outDir, ExperimentData data, IReadOnlyList<string> variants, int seed = 0, int probeSeeds = 1,
        LeverOverrides? levers = null, int pretrainSeeds = 1, EncoderWeights weights = EncoderWeights.Student)
    {
        if (probeSeeds < 1) throw new BatException("--probe-seeds", $"{probeSeeds} probe seeds: must be at least 1");
        if (pretrainSeeds < 1) throw new BatException("--pretrain-seeds", $"{pretrainSeeds} pre-training seeds: must be at least 1");
        levers?.Validate();
        var models = variants.Select(PretrainVariant.ControlOf).Distinct().Concat(variants).ToList();   // each variant's own control first
        if (pretrainSeeds == 1)
        {
            // One pre-training seed: OUT itself is its folder, and PretrainAndProbe has written OUT's learn.csv.
            var (cells, rows) = PretrainAndProbe(preset, outDir, data, models, seed, seed, probeSeeds, levers, weights);
            return Read(MeanOverSeeds(cells), rows, variants);
        }
        var allCells = new List<Table5Cell>();
        var seedMeans = new List<Bat.Reporting.ResultRow>();
        foreach (int pretrainSeed in Enumerable.Range(seed, pretrainSeeds))
        {
            var (cells, rows) = PretrainAndProbe(preset, PretrainSeedDir(outDir, pretrainSeed), data, models, pretrainSeed, seed, probeSeeds, levers, weights);
            allCells.AddRange(cells);
            seedMeans.AddRange(ControlMargins.MeanOverProbeSeeds(rows, pretrainSeed));
        }
        Bat.Reporting.ResultsTable.Write(TablePath(outDir), seedMeans);
        return Read(MeanOverSeeds(allCells), seedMeans, variants);
    }

    /// <summary>The learn.csv of a benchmark folder (OUT itself, or one pre-training seed's folder).</summary>
    static string TablePath(string outDir) => Path.Combine(ProbeComparison.ResultsDir(outDir), Table + ".csv");

    /// <summary>Where `--pretrain-seeds` puts the runs and results of one pre-training seed: OUT/pretrain-seed-N.</summary>
    public static string PretrainSeedDir(string outDir, int pretrainSeed) => Path.Combine(outDir, $"pretrain-seed-{pretrainSeed}");

    /// <summary>Pre-trains <paramref name="models"/> with <paramref name="pretrainSeed"/> in <paramref name="outDir"/>, then probes each with
    /// the probe seeds firstProbeSeed, firstProbeSeed + 1, ...; the cells of every probe seed and their rows, written as OUT's learn.csv.</summary>
    static (List<Table5Cell> Cells, List<Bat.Reporting.ResultRow> Rows) PretrainAndProbe(Preset preset, string outDir, ExperimentData data,
        IReadOnlyList<string> models, int pretrainSeed, int firstProbeSeed, int probeSeeds, LeverOverrides? levers, EncoderWeights weights)
    {
        PretrainingAblation.Run(preset, outDir, data, models, pretrainSeed, levers);
        var table = TablePath(outDir);
        var cells = new List<Table5Cell>();
        var rows = new List<Bat.Reporting.ResultRow>();
        foreach (int probeSeed in Enumerable.Range(firstProbeSeed, probeSeeds))
        {
            // CompareProbes writes the table of its own seed; the rows of all seeds are gathered and written once at the end.
            cells.AddRange(ProbeComparison.CompareProbes(preset, outDir, data, models, Probes, seed: probeSeed, table: Table, weights: weights));
            rows.AddRange(Bat.Reporting.ResultsTable.Read(table));
        }
        Bat.Reporting.ResultsTable.Write(table, rows);
        return (cells, rows);
    }

    static Result Read(IReadOnlyList<Table5Cell> mean, IReadOnlyList<Bat.Reporting.ResultRow> rows, IReadOnlyList<string> variants)
    {
        var macroF1Margins = ControlMargins.MacroF1(rows);
        return new Result(mean, ControlMargins.From(rows), Check(mean, variants))
        {
            MacroF1 = MacroF1OverSeeds(rows, macroF1Margins.Select(m => m.Dataset).ToHashSet()),
            MacroF1Margins = macroF1Margins,
        };
    }

    /// <summary>Macro F1 of every (task, model, probe) of the single-label <paramref name="datasets"/>: the mean over seeds.</summary>
    static Dictionary<(string, string, string), double> MacroF1OverSeeds(IEnumerable<Bat.Reporting.ResultRow> rows, IReadOnlySet<string> datasets) =>
        rows.Where(r => r.Metric == Bat.Data.TaskMetric.MacroF1 && r.Layer is null && datasets.Contains(r.Dataset))
            .GroupBy(r => (r.Dataset, r.Model, r.Probe))
            .ToDictionary(g => g.Key, g => g.GroupBy(r => r.Seed).Average(s => s.Average(r => r.Value)));

    /// <summary>One cell per (task, model, probe): the mean score over the probe seeds, their training time summed.</summary>
    public static IReadOnlyList<Table5Cell> MeanOverSeeds(IEnumerable<Table5Cell> cells) =>
        cells.GroupBy(c => (c.Dataset, c.Model, c.Probe, c.Metric))
            .Select(g => g.First() with { Score = g.Average(c => c.Score), TrainSeconds = g.Sum(c => c.TrainSeconds) })
            .ToList();

    /// <summary>The targets of every pre-trained variant on every task (a missing score counts as not met).</summary>
    public static IReadOnlyList<TargetCheck> Check(IReadOnlyList<Table5Cell> cells, IEnumerable<string> variants)
    {
        double Score(string dataset, string model, string probe) =>
            cells.FirstOrDefault(c => c.Dataset == dataset && c.Model == model && c.Probe == probe)?.Score ?? double.NaN;
        var checks = new List<TargetCheck>();
        foreach (var dataset in cells.Select(c => c.Dataset).Distinct())
            foreach (var model in variants)
            {
                double lp = Score(dataset, model, "lp"), cgp = Score(dataset, model, "cgp"), ft = Score(dataset, model, ProbeCatalog.FineTune);
                var control = PretrainVariant.ControlOf(model);
                checks.Add(new(dataset, model, $"LP >= LP({control}) + 15", Score(dataset, control, "lp") + 15, lp));
                checks.Add(new(dataset, model, $"CGP >= CGP({control}) + 5", Score(dataset, control, "cgp") + 5, cgp));
                checks.Add(new(dataset, model, "fine-tune >= LP + 10", lp + 10, ft));
                checks.Add(new(dataset, model, "CGP > log-mel baseline", Score(dataset, ProbeComparison.Baseline, LogMelBaseline.Name) + 0.01, cgp));
            }
        return checks;
    }

    /// <summary>The benchmark's printout: per task, a score table with margins, then every target with PASS/FAIL.</summary>
    public static IEnumerable<string> Format(Result result)
    {
        string F(double v) => double.IsNaN(v) ? "-" : v.ToString("F1", CultureInfo.InvariantCulture);
        foreach (var dataset in result.Cells.Select(c => c.Dataset).Distinct())
        {
            var metric = result.Cells.First(c => c.Dataset == dataset).Metric;
            yield return $"== {dataset} ({metric}, %)";
            yield return $"{"model",-16} {"LP",7} {"CGP",7} {"FT",7}   margin over its own untrained control: LP / CGP / FT";
            foreach (var model in result.Cells.Where(c => c.Dataset == dataset && c.Model != ProbeComparison.Baseline).Select(c => c.Model).Distinct())
            {
                double S(string p) => result.Cells.FirstOrDefault(c => c.Dataset == dataset && c.Model == model && c.Probe == p)?.Score ?? double.NaN;
                string M(string p) => result.Margins.FirstOrDefault(m => m.Dataset == dataset && m.Model == model && m.Probe == p)?.Verdict ?? "";
                var margins = PretrainVariant.IsControlName(model) ? "(a control)" : $"{M("lp")} / {M("cgp")} / {M(ProbeCatalog.FineTune)} (over {PretrainVariant.ControlOf(model)})";
                yield return $"{model,-16} {F(S("lp")),7} {F(S("cgp")),7} {F(S(ProbeCatalog.FineTune)),7}   {margins}";
            }
            var baseline = result.Cells.FirstOrDefault(c => c.Dataset == dataset && c.Model == ProbeComparison.Baseline);
            if (baseline is not null) yield return $"{"log-mel LR",-16} {F(baseline.Score),7}   (non-learned baseline: per-band mean and std + logistic regression)";
            if (!result.MacroF1.Keys.Any(k => k.Dataset == dataset)) continue;
            // Accuracy rewards the majority class of an imbalanced split; macro F1 shows whether the rare classes are recognised.
            yield return $"-- {dataset} (f1_macro, %: every class weighed alike)";
            foreach (var model in result.MacroF1.Keys.Where(k => k.Dataset == dataset).Select(k => k.Model).Distinct())
            {
                double S(string p) => result.MacroF1.TryGetValue((dataset, model, p), out var v) ? v : double.NaN;
                string M(string p) => result.MacroF1Margins.FirstOrDefault(m => m.Dataset == dataset && m.Model == model && m.Probe == p)?.Verdict ?? "";
                if (model == ProbeComparison.Baseline)
                {
                    yield return $"{"log-mel LR",-16} {F(S(LogMelBaseline.Name)),7}";
                    continue;
                }
                var margins = PretrainVariant.IsControlName(model) ? "(a control)" : $"{M("lp")} / {M("cgp")} / {M(ProbeCatalog.FineTune)} (over {PretrainVariant.ControlOf(model)})";
                yield return $"{model,-16} {F(S("lp")),7} {F(S("cgp")),7} {F(S(ProbeCatalog.FineTune)),7}   {margins}";
            }
        }
        yield return "== targets";
        foreach (var t in result.Targets)
            yield return $"{(t.Met ? "PASS" : "FAIL")}  {t.Dataset,-24} {t.Model,-8} {t.Target,-36} measured {F(t.Measured)}, required {F(t.Required)}";
        yield return $"targets met: {result.Targets.Count(t => t.Met)} of {result.Targets.Count}";
    }
}
