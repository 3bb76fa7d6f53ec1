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
}
