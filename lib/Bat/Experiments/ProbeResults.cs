using System.Globalization;
using Bat.Probing;
using Bat.Reporting;

namespace Bat.Experiments;

/// <summary>Turns probe runs into rows of the shared results schema (written with Bat.Reporting.ResultsTable).</summary>
public static class ProbeResults
{
    /// <summary>Rows for one run: each test metric per head (layer index for per-layer probes), plus "params",
    /// "train_seconds", "best_step" and, for gated probes, one "gate" row per layer (0-based block index).</summary>
    public static List<ResultRow> Rows(ProbeRunResult run, string experiment, string dataset, string model, int? prototypes,
        int seed, string preset, string? commit = null)
    {
        commit ??= Provenance.GitCommit();
        int? k = prototypes is { } kk && ProbeCatalog.UsesPrototypes(run.Probe) ? kk : null;
        var rows = new List<ResultRow>();
        void Add(int? layer, string metric, double value) =>
            rows.Add(new ResultRow(experiment, dataset, model, run.Probe, k, layer, metric, value, seed, preset, commit));
        foreach (var head in run.Heads)
        {
            int? layer = run.Heads.Count > 1 ? head.Head : null;
            foreach (var (metric, value) in head.Test.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Add(layer, metric, value);
            Add(layer, "best_step", head.BestStep);
        }
        Add(null, "params", run.Parameters);
        Add(null, "train_seconds", run.TrainSeconds);
        if (run.GateWeights is { } gate)
            for (int l = 0; l < gate.Length; l++) Add(l, "gate", gate[l]);
        return rows;
    }

    /// <summary>
    /// Rows for a cross-validation (the official ESC-50 report): each fold's rows under dataset "{dataset}/fold{k}",
    /// then under <paramref name="dataset"/> each test metric's mean over the folds, its std as "{metric}_std",
    /// "folds", the parameters and the summed "train_seconds".
    /// </summary>
    public static List<ResultRow> FoldRows(CrossValidationResult cv, string experiment, string dataset, string model, int? prototypes,
        int seed, string preset, string? commit = null)
    {
        commit ??= Provenance.GitCommit();
        var first = cv.Folds[0].Result;
        int? k = prototypes is { } kk && ProbeCatalog.UsesPrototypes(first.Probe) ? kk : null;
        var rows = cv.Folds.SelectMany(f => Rows(f.Result, experiment, $"{dataset}/fold{f.Fold}", model, prototypes, seed, preset, commit)).ToList();
        void Add(string metric, double value) => rows.Add(new ResultRow(experiment, dataset, model, first.Probe, k, null, metric, value, seed, preset, commit));
        var std = cv.Std;
        foreach (var (metric, mean) in cv.Mean.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Add(metric, mean);
            Add(metric + "_std", std[metric]);
        }
        Add("folds", cv.Folds.Count);
        Add("params", first.Parameters);
        Add("train_seconds", cv.Folds.Sum(f => f.Result.TrainSeconds));
        return rows;
    }
}
