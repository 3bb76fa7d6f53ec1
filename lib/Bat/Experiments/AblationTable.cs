using Bat.Probing;
using Bat.Reporting;
using Bat.Training;

namespace Bat.Experiments;

/// <summary>
/// One row of the ablation table: a variant, the one thing it changes of its parent row, our frozen-probe scores on
/// the primary task, their margins over the untrained control and over the parent, and the paper's CGP number(s) for
/// the row (AS-20k, ViT-B on GPU; labelled, never mixed with ours).
/// </summary>
/// <param name="Scores">probe -> test score on the main metric</param>
/// <param name="OverControl">probe -> score minus the untrained control's of the same encoder shape (absent for a control)</param>
/// <param name="OverParent">probe -> score minus the parent row's (absent for rows without a parent)</param>
public sealed record AblationLine(string Variant, string Change, string? Parent, string Metric,
    IReadOnlyDictionary<string, double> Scores, IReadOnlyDictionary<string, double> OverControl,
    IReadOnlyDictionary<string, double> OverParent, IReadOnlyList<PaperNumber> Paper);

/// <summary>
/// The paper's ablation at our scale (notebook 02's last section): LP and CGP on every pre-trained variant and
/// the untrained control, on the primary task's test split, one change per row (<see cref="PretrainVariant.Parent"/>).
/// Rows are written to {OutDir}/pretrain/ablation.csv in the shared results schema; the embeddings are the
/// ones notebooks 03 and 04 reuse (<see cref="OutputLayout.Embeddings"/>).
/// </summary>
public static class AblationTable
{
    public const string Experiment = "02-pretrain/ablation";
    public static readonly string[] Probes = ["lp", "cgp"];

    /// <summary>Probes every variant (the control first) and writes the rows; returns the table.</summary>
    public static IReadOnlyList<AblationLine> Run(Preset preset, string outDir, ExperimentData data, IEnumerable<string>? variants = null, int seed = 0)
    {
        var layout = new OutputLayout(outDir);
        var manifest = data.PrimaryTask;
        var rows = new List<ResultRow>();
        foreach (var variant in variants ?? PretrainVariant.WithControl.Select(v => v.Name))
        {
            var checkpoint = CheckpointSource.Resolve(layout.RequirePretrainRun(variant));
            using var session = ProbeExperiment.Open(checkpoint, manifest, layout.Embeddings(variant, manifest, checkpoint));
            foreach (var probe in Probes)
            {
                var run = ProbeExperiment.Run(session, probe, preset.Prototypes, preset.RecipeFor(manifest, checkpoint, seed).Probing);
                rows.AddRange(ProbeResults.Rows(run, Experiment, session.Task.Name, variant, preset.Prototypes, seed, preset.Name));
            }
        }
        ResultsTable.Write(layout.Ablation, rows);
        return Lines(rows);
    }

    /// <summary>
    /// The table from result rows of the ablation experiment (mean over seeds, the task's main metric): one line per
    /// variant in the ablation's order, the control first; variants without rows are left out.
    /// </summary>
    public static IReadOnlyList<AblationLine> Lines(IEnumerable<ResultRow> results)
    {
        var main = Headlines.MainMetric(results.Where(r => r.Experiment == Experiment && r.Layer is null));
        var byVariant = main.GroupBy(r => r.Model).ToDictionary(
            g => g.Key, g => (Metric: g.First().Metric, Scores: g.GroupBy(r => r.Probe).ToDictionary(p => p.Key, p => p.Average(r => r.Value))));
        IReadOnlyDictionary<string, double> Minus(IReadOnlyDictionary<string, double> scores, string? other) =>
            other is not null && byVariant.TryGetValue(other, out var o)
                ? scores.Where(s => o.Scores.ContainsKey(s.Key)).ToDictionary(s => s.Key, s => s.Value - o.Scores[s.Key])
                : new Dictionary<string, double>();
        return PretrainVariant.WithControl.Where(v => byVariant.ContainsKey(v.Name)).Select(v =>
        {
            var (metric, scores) = byVariant[v.Name];
            return new AblationLine(v.Name, v.Description, v.Parent, metric, scores,
                v.IsControl ? new Dictionary<string, double>() : Minus(scores, PretrainVariant.ControlOf(v.Name)),
                Minus(scores, v.Parent), PaperResults.AblationOf(v.Name));
        }).ToList();
    }
}
