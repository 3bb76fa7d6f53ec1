using System.Globalization;
using Bat.Probing;

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

    public sealed record Result(IReadOnlyList<Table5Cell> Cells, IReadOnlyList<ControlMargin> Margins, IReadOnlyList<TargetCheck> Targets);

    public static Result Run(Preset preset, string outDir, ExperimentData data, IReadOnlyList<string> variants, int seed = 0)
    {
        var models = variants.Select(PretrainVariant.ControlOf).Distinct().Concat(variants).ToList();   // each variant's own control first
        PretrainingAblation.Run(preset, outDir, data, models, seed);
        var cells = ProbeComparison.CompareProbes(preset, outDir, data, models, Probes, seed: seed, table: Table);
        var rows = Bat.Reporting.ResultsTable.Read(Path.Combine(ProbeComparison.ResultsDir(outDir), Table + ".csv"));
        return new Result(cells, ControlMargins.From(rows), Check(cells, variants));
    }

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
        }
        yield return "== targets";
        foreach (var t in result.Targets)
            yield return $"{(t.Met ? "PASS" : "FAIL")}  {t.Dataset,-24} {t.Model,-8} {t.Target,-36} measured {F(t.Measured)}, required {F(t.Required)}";
        yield return $"targets met: {result.Targets.Count(t => t.Met)} of {result.Targets.Count}";
    }
}
