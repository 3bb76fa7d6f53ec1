using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Bat.Probing;

/// <summary>One row of the shared results schema (CONVENTIONS.md). Empty k / layer mean "not applicable".</summary>
public sealed record ProbeResultRow(string Experiment, string Dataset, string Model, string Probe, string K, string Layer,
    string Metric, double Value, long Seed, string Preset, string Commit);

/// <summary>
/// Turns probe runs into rows of the shared schema and appends them to a CSV atomically (the whole file is
/// rewritten through a temp file, so a crash never leaves half a row). A small writer of our own until the
/// runner's Bat.Reporting one is available.
/// </summary>
public static class ProbeResults
{
    public const string Header = "experiment,dataset,model,probe,k,layer,metric,value,seed,preset,commit";

    /// <summary>Rows for one run: each test metric per head (layer index for per-layer probes), plus "params",
    /// "train_seconds", "best_step" and, for gated probes, one "gate" row per layer.</summary>
    public static List<ProbeResultRow> Rows(ProbeRunResult run, string experiment, string dataset, string model, int? prototypes,
        long seed, string preset, string? commit = null)
    {
        commit ??= Commit();
        string k = prototypes is { } kk && ProbeCatalog.UsesPrototypes(run.Probe) ? kk.ToString(CultureInfo.InvariantCulture) : "";
        var rows = new List<ProbeResultRow>();
        void Add(string layer, string metric, double value) =>
            rows.Add(new ProbeResultRow(experiment, dataset, model, run.Probe, k, layer, metric, value, seed, preset, commit));
        foreach (var head in run.Heads)
        {
            string layer = run.Heads.Count > 1 ? head.Head.ToString(CultureInfo.InvariantCulture) : "";
            foreach (var (metric, value) in head.Test.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Add(layer, metric, value);
            Add(layer, "best_step", head.BestStep);
        }
        Add("", "params", run.Parameters);
        Add("", "train_seconds", run.TrainSeconds);
        if (run.GateWeights is { } gate)
            for (int l = 0; l < gate.Length; l++) Add(l.ToString(CultureInfo.InvariantCulture), "gate", gate[l]);
        return rows;
    }

    /// <summary>Appends rows to a results CSV (created with the header if absent; an existing file must have it).</summary>
    public static void Append(string path, IEnumerable<ProbeResultRow> rows)
    {
        var text = new StringBuilder();
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path);
            var firstLine = existing.Split('\n', 2)[0].TrimEnd('\r');
            if (firstLine != Header) throw new BatException(path, $"not a results CSV of the shared schema (header '{firstLine}', expected '{Header}')");
            text.Append(existing);
            if (existing.Length > 0 && !existing.EndsWith('\n')) text.Append('\n');
        }
        else text.Append(Header).Append('\n');
        foreach (var r in rows)
            text.AppendJoin(',', new[] { r.Experiment, r.Dataset, r.Model, r.Probe, r.K, r.Layer, r.Metric,
                r.Value.ToString("R", CultureInfo.InvariantCulture), r.Seed.ToString(CultureInfo.InvariantCulture), r.Preset, r.Commit }.Select(Quote))
                .Append('\n');
        AtomicFile.WriteAllText(path, text.ToString());
    }

    static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";

    /// <summary>The short git commit of the working directory's repository, or "unknown".</summary>
    public static string Commit()
    {
        if (Environment.GetEnvironmentVariable("BAT_COMMIT") is { Length: > 0 } fromEnv) return fromEnv;
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (git is null) return "unknown";
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && output.Length > 0 ? output : "unknown";
        }
        catch (System.ComponentModel.Win32Exception) { return "unknown"; }
    }
}
