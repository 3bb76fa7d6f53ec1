using Bat.Data;
using Bat.Reporting;

namespace Bat.Experiments;

/// <summary>
/// The headline numbers of a reproduction, picked from the shared-schema CSVs under its output folder: Table 5,
/// Figure 2 and Figure 4 at our scale, each beside what the paper reports. Bat.Notebooks' report renders them.
/// Every score is the task's main metric (<see cref="MainMetric"/>), averaged over seeds.
/// </summary>
public static class Headlines
{
    /// <summary>Our probes in the order of the paper's Table 5 (plus the baselines it discusses).</summary>
    public static readonly IReadOnlyList<string> ProbeOrder = ["lp", "layer-lp", "lcgp", "h2t", "pb", "cgp-nocls", "cgp", "finetune", Bat.Probing.LogMelBaseline.Name];

    /// <summary>One line of our Table 5: a dataset and model, the mean score of each probe that ran.</summary>
    public sealed record Table5Line(string Dataset, string Model, string Metric, IReadOnlyDictionary<string, double> ByProbe);

    /// <summary>A line of the paper's Table 5 (AS-20k, ViT-B on GPU) for one of our models.</summary>
    public sealed record PaperLine(string Model, IReadOnlyDictionary<string, double> ByProbe);

    /// <summary>Table 5 at our scale: the probes that ran (in <see cref="ProbeOrder"/>), our lines, the paper's lines.</summary>
    public sealed record Table5(IReadOnlyList<string> Probes, IReadOnlyList<Table5Line> Ours, IReadOnlyList<PaperLine> Paper);

    /// <summary>Every pre-trained Table 5 score against the untrained control's (<see cref="ControlMargins"/>); empty when there are none.</summary>
    public static IReadOnlyList<ControlMargin> SelectControlMargins(IReadOnlyList<ResultRow> results) =>
        ControlMargins.From(results.Where(r => r.Experiment.EndsWith("table5", StringComparison.Ordinal)));

    /// <summary>The same on macro F1, for the single-label tasks (<see cref="ControlMargins.MacroF1"/>); empty when there are none.</summary>
    public static IReadOnlyList<ControlMargin> SelectMacroF1Margins(IReadOnlyList<ResultRow> results) =>
        ControlMargins.MacroF1(results.Where(r => r.Experiment.EndsWith("table5", StringComparison.Ordinal)));

    /// <summary>Notebook 02's ablation table (<see cref="AblationTable.Lines"/>); empty when it has not run.</summary>
    public static IReadOnlyList<AblationLine> SelectAblation(IReadOnlyList<ResultRow> results) => AblationTable.Lines(results);

    /// <summary>Figure 2 at our scale: the K values and, per checkpoint, the mean CGP score at each K (null where it did not run).</summary>
    public sealed record PrototypeSweep(IReadOnlyList<int> Ks, IReadOnlyList<(string Model, string Metric, double?[] ByK)> Lines);

    /// <summary>A block (0-based) and its value.</summary>
    public sealed record Peak(int Block, double Value);

    /// <summary>Figure 4 at our scale for one checkpoint: the best per-block linear probe and the largest CGP gate, beside the paper's peak.</summary>
    public sealed record LayerPeak(string Model, int Depth, Peak? LinearProbe, Peak? Gate, string Paper);

    /// <summary>Every row of every shared-schema results CSV under the output folder.</summary>
    public static IReadOnlyList<ResultRow> LoadResults(string outDir)
    {
        var rows = new List<ResultRow>();
        if (!Directory.Exists(outDir)) return rows;
        foreach (var csv in Directory.EnumerateFiles(outDir, "*.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            if (IsResultsCsv(csv)) rows.AddRange(ResultsTable.Read(csv));
        return rows;
    }

    public static bool IsResultsCsv(string path)
    {
        using var reader = new StreamReader(path);
        return reader.ReadLine()?.Trim() == string.Join(",", ResultsTable.Columns);
    }

    /// <summary>
    /// Rows of experiments ending in "table5" (notebook 03 writes "03-cgp-ablation/table5"), one line per (dataset,
    /// model); then the paper's AS-20k lines for the models that have one. Null when there are none yet.
    /// </summary>
    public static Table5? SelectTable5(IReadOnlyList<ResultRow> results)
    {
        var table5 = MainMetric(results.Where(r => r.Experiment.EndsWith("table5", StringComparison.Ordinal)));
        if (table5.Count == 0) return null;
        var probes = ProbeOrder.Where(p => table5.Any(r => r.Probe == p)).ToList();
        var ours = table5.GroupBy(r => (r.Dataset, r.Model, r.Metric))
            .OrderBy(g => g.Key.Dataset, StringComparer.Ordinal).ThenBy(g => PretrainVariant.IsControlName(g.Key.Model) ? 0 : 1)
            .ThenBy(g => g.Key.Model, StringComparer.Ordinal)
            .Select(g => new Table5Line(g.Key.Dataset, g.Key.Model, g.Key.Metric,
                probes.Where(p => g.Any(r => r.Probe == p)).ToDictionary(p => p, p => g.Where(r => r.Probe == p).Average(r => r.Value))))
            .ToList();
        var paper = table5.Select(r => PaperResults.ModelFor(r.Model)).OfType<string>().Distinct().Order(StringComparer.Ordinal)
            .Select(m => new PaperLine(m, probes.Where(p => PaperResults.Lookup(m, "AS-20k", p) is not null)
                .ToDictionary(p => p, p => PaperResults.Lookup(m, "AS-20k", p)!.Value)))
            .ToList();
        return new Table5(probes, ours, paper);
    }

    /// <summary>Rows of experiments ending in "k-sweep" with a K; null when there are none yet.</summary>
    public static PrototypeSweep? SelectPrototypeSweep(IReadOnlyList<ResultRow> results)
    {
        var sweep = MainMetric(results.Where(r => r.Experiment.EndsWith("k-sweep", StringComparison.Ordinal) && r.K is not null));
        if (sweep.Count == 0) return null;
        var ks = sweep.Select(r => r.K!.Value).Distinct().Order().ToList();
        var lines = sweep.GroupBy(r => (r.Model, r.Metric))
            .Select(g => (g.Key.Model, g.Key.Metric, ks.Select(k => g.Where(r => r.K == k).Select(r => r.Value).ToList())
                .Select(v => v.Count == 0 ? (double?)null : v.Average()).ToArray()))
            .ToList();
        return new PrototypeSweep(ks, lines);
    }

    /// <summary>
    /// Per checkpoint of notebook 04: the block whose own linear probe scores best and the block with the largest
    /// CGP gate weight, of the encoder's depth, beside where the paper finds the peak.
    /// </summary>
    public static IReadOnlyList<LayerPeak> SelectLayerPeaks(IReadOnlyList<ResultRow> results)
    {
        var layerwise = results.Where(r => r.Experiment.StartsWith(OutputLayout.LayerwiseExperiment, StringComparison.Ordinal) && r.Layer is not null).ToList();
        var peaks = new List<LayerPeak>();
        foreach (var model in layerwise.Select(r => r.Model).Distinct().Order(StringComparer.Ordinal))
        {
            var lp = MainMetric(layerwise.Where(r => r.Model == model && r.Probe == "layer-lp"))
                .GroupBy(r => r.Layer!.Value).Select(g => new Peak(g.Key, g.Average(r => r.Value))).ToList();
            var gate = layerwise.Where(r => r.Model == model && r.Probe == "cgp" && r.Metric == "gate")
                .GroupBy(r => r.Layer!.Value).Select(g => new Peak(g.Key, g.Average(r => r.Value))).ToList();
            Peak? Max(List<Peak> xs) => xs.Count == 0 ? null : new Peak(xs.MaxBy(x => x.Value)!.Block, xs.Max(x => x.Value));
            peaks.Add(new LayerPeak(model, Math.Max(lp.Count, gate.Count), Max(lp), Max(gate), PaperResults.LayerPeak(model)));
        }
        return peaks;
    }

    /// <summary>
    /// The rows of each dataset's main metric (docs/method.md section 5): accuracy where the task reports it
    /// (single-label tasks, which also report mAP), else mAP. Mixing the two would average unlike numbers.
    /// </summary>
    public static List<ResultRow> MainMetric(IEnumerable<ResultRow> rows)
    {
        var scored = rows.Where(r => r.Metric is TaskMetric.MeanAveragePrecision or TaskMetric.Accuracy).ToList();
        var accuracyTasks = scored.Where(r => r.Metric == TaskMetric.Accuracy).Select(r => r.Dataset).ToHashSet();
        return scored.Where(r => r.Metric == (accuracyTasks.Contains(r.Dataset) ? TaskMetric.Accuracy : TaskMetric.MeanAveragePrecision)).ToList();
    }
}
