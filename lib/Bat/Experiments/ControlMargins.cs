using Bat.Data;
using Bat.Reporting;

namespace Bat.Experiments;

/// <summary>
/// One score read against the untrained control: the same probe on the same task, on an encoder of the same shape
/// and seed that never saw an update. <see cref="Noise"/> is two standard errors of the margin: of a proportion
/// measured on <c>support</c> test clips, 2 sqrt(p (100 - p) / n) in points (exact for accuracy, a rough guide for
/// mAP), and, when both sides were probed with several seeds (<see cref="Seeds"/>, the rows' seed column, e.g.
/// `bat bench learn --probe-seeds`), of the difference of the two means over seeds, added in quadrature. A margin
/// inside it is not evidence that pre-training taught the encoder anything. The probe's own seed matters: one CGP
/// training on the instruments task reads the same frozen encoder at 20.3 % with seed 0 and 32.0 % with seed 1
/// (docs/method.md section 7).
/// </summary>
public sealed record ControlMargin(string Dataset, string Model, string Probe, string Metric, double Score, double Control, double Noise, int Seeds = 1)
{
    public double Margin => Score - Control;
    public bool WithinNoise => Math.Abs(Margin) <= Noise;

    /// <summary>The margin in words, e.g. "+12.3 (beyond noise ±4.1)".</summary>
    public string Verdict => FormattableString.Invariant(
        $"{Margin:+0.0;-0.0;0.0} ({(WithinNoise ? "within" : "beyond")} noise ±{Noise:0.0}{(Seeds > 1 ? $", {Seeds} seeds" : "")})");
}

public static class ControlMargins
{
    /// <summary>
    /// Margins of every (dataset, model, probe) over the score of the control of the model's own encoder shape
    /// (<see cref="PretrainVariant.ControlOf"/>) with the same probe on the same dataset,
    /// on each dataset's main metric (accuracy for single-label tasks, else mAP), mean over seeds. Models without a
    /// control row for that probe and dataset (and the control itself) are left out.
    /// </summary>
    /// <param name="controlOf">each model's control (null: none, the model is left out); default: the control of the
    /// model's own encoder shape, e.g. `bat margins --control` names another</param>
    public static IReadOnlyList<ControlMargin> From(IEnumerable<ResultRow> rows, Func<string, string?>? controlOf = null)
    {
        var all = rows.ToList();
        return Over(Headlines.MainMetric(all), all, controlOf ?? OwnControl);
    }

    /// <summary>
    /// The same margins on macro F1 ("f1_macro"), for the single-label tasks only (those whose main metric is
    /// accuracy). Accuracy on an imbalanced test split rewards the majority class: the offline keywords split has
    /// 120 unknown words, 12 silences and 6 clips of each keyword, so a probe that answers "unknown" or "silence"
    /// everywhere reads 68.75 % and recognises no keyword. Macro F1 weighs every class alike and shows whether the
    /// rare ones are recognised. Its noise band uses the same proportion formula on all test clips, which for
    /// macro F1 is only a rough guide (a rare class's F1 rests on its few clips); the seeds' spread is exact.
    /// </summary>
    public static IReadOnlyList<ControlMargin> MacroF1(IEnumerable<ResultRow> rows, Func<string, string?>? controlOf = null)
    {
        var all = rows.ToList();
        var singleLabel = Headlines.MainMetric(all).Where(r => r.Metric == TaskMetric.Accuracy).Select(r => r.Dataset).ToHashSet();
        return Over(all.Where(r => r.Metric == TaskMetric.MacroF1 && r.Layer is null && singleLabel.Contains(r.Dataset)).ToList(), all,
            controlOf ?? OwnControl);
    }

    /// <summary>The control of a model's own encoder shape (<see cref="PretrainVariant.ControlOf"/>); none for a control.</summary>
    public static string? OwnControl(string model) => PretrainVariant.IsControlName(model) ? null : PretrainVariant.ControlOf(model);

    /// <summary>
    /// Reads the rows of <paramref name="runs"/>, one recipe pre-trained with different seeds, as one model
    /// <paramref name="name"/> whose seeds are those runs: run i's rows averaged over their probe seeds become seed i.
    /// Its margin over a control read the same way (run i against the control of pre-training seed i) then counts the
    /// spread over pre-training seeds, which moves a margin more than the probe seed does (docs/method.md section 6).
    /// A score that only one of the runs has (a task or probe measured with one pre-training seed) keeps that run's
    /// probe seeds, so its band still counts their spread.
    /// </summary>
    public static IEnumerable<ResultRow> AsPretrainingSeeds(IEnumerable<ResultRow> rows, string name, IReadOnlyList<string> runs)
    {
        var members = runs.Select((run, i) => (run, i)).ToDictionary(m => m.run, m => m.i);
        foreach (var score in rows.Where(r => members.ContainsKey(r.Model)).GroupBy(r => (r.Dataset, r.Probe, r.K, r.Layer, r.Metric)))
        {
            var byRun = score.GroupBy(r => r.Model).ToList();
            var read = byRun.Count == 1
                ? byRun[0].AsEnumerable()
                : byRun.SelectMany(run => MeanOverProbeSeeds(run, members[run.Key]));
            foreach (var row in read) yield return row with { Model = name };
        }
    }

    /// <summary>One row per (task, model, probe, k, layer, metric): the mean over the probe seeds, tagged with the pre-training seed.</summary>
    public static IEnumerable<ResultRow> MeanOverProbeSeeds(IEnumerable<ResultRow> rows, int pretrainSeed) =>
        rows.GroupBy(r => (r.Experiment, r.Dataset, r.Model, r.Probe, r.K, r.Layer, r.Metric))
            .Select(g => g.First() with { Value = g.Average(r => r.Value), Seed = pretrainSeed });

    /// <summary>Margins of the <paramref name="scored"/> rows (one metric per dataset); <paramref name="all"/> gives the test clips' support.</summary>
    static IReadOnlyList<ControlMargin> Over(IReadOnlyList<ResultRow> scored, IReadOnlyList<ResultRow> all, Func<string, string?> controlOf)
    {
        var scores = scored.GroupBy(r => (r.Dataset, r.Model, r.Probe, r.Metric))
            .ToDictionary(g => g.Key, g => g.GroupBy(r => r.Seed).Select(s => s.Average(r => r.Value)).ToList());   // one score per seed
        var support = all.Where(r => r.Metric == "support" && r.Layer is null)
            .GroupBy(r => (r.Dataset, r.Probe)).ToDictionary(g => g.Key, g => g.Max(r => r.Value));
        var margins = new List<ControlMargin>();
        foreach (var ((dataset, model, probe, metric), score) in scores)
        {
            if (controlOf(model) is not { } controlName || controlName == model
                || !scores.TryGetValue((dataset, controlName, probe, metric), out var control)) continue;
            double n = support.TryGetValue((dataset, probe), out var s) ? s : double.NaN;
            double p = Math.Clamp(control.Average(), 0, 100);
            double testClips = 2 * Math.Sqrt(p * (100 - p) / n);
            // The seeds' spread counts only when both sides have one (two scores or more each).
            double seedSpread = score.Count > 1 && control.Count > 1
                ? 2 * Math.Sqrt(SampleVariance(score) / score.Count + SampleVariance(control) / control.Count)
                : 0;
            margins.Add(new ControlMargin(dataset, model, probe, metric, score.Average(), control.Average(),
                Math.Sqrt(testClips * testClips + seedSpread * seedSpread), Math.Min(score.Count, control.Count)));
        }
        return margins.OrderBy(m => m.Dataset, StringComparer.Ordinal).ThenBy(m => m.Model, StringComparer.Ordinal)
            .ThenBy(m => m.Probe, StringComparer.Ordinal).ToList();
    }

    static double SampleVariance(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        return values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
    }
}
