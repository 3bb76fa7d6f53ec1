using System.Globalization;
using System.Net;
using System.Text;
using Bat.Experiments;
using Bat.Reporting;

namespace Bat.Notebooks;

/// <summary>
/// The report page of `bat reproduce`: links to the four executed notebooks, the headline numbers (ours beside the
/// paper's, which are labelled as such), where every CSV is, and the environment the numbers were computed in.
/// Plain HTML without scripts: the charts live in the notebooks' own pages.
/// </summary>
public static class ReproductionReport
{
    /// <summary>Our probes in the order of the paper's Table 5 (plus the baselines it discusses).</summary>
    static readonly string[] ProbeOrder = ["lp", "layer-lp", "lcgp", "h2t", "pb", "cgp-nocls", "cgp", "finetune"];

    public static string Render(string outDir, ReproduceOptions options, string? failedNotebook, string? error, TimeSpan elapsed)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>BAT Notebooks: reproduction report</title><style>")
            .Append("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}")
            .Append("table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}")
            .Append("th{background:#f3f3f3}.paper{color:#7a4b00;background:#fff8ea}")
            .Append(".fail{color:#a00;font-weight:bold}.ok{color:#070}</style></head><body>");
        html.Append("<h1>BAT Notebooks: reproduction report</h1>");
        html.Append($"<p>Preset <b>{E(options.Preset)}</b>, data <b>{E(options.Data)}</b>, finished {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, " +
                    $"this run took {E(Reproduction.FormatDuration(elapsed))} (skipped notebooks not counted).</p>");
        if (failedNotebook is not null)
            html.Append($"<p class=\"fail\">Notebook {E(failedNotebook)} failed: {E(error ?? "")}. Its executed notebook shows the error; " +
                        "fix the cause and run the same command again: finished notebooks are skipped.</p>");

        html.Append("<h2>Notebooks</h2><table><tr><th>notebook</th><th>reproduces</th><th>status</th><th>pages</th></tr>");
        foreach (var (name, reproduces) in Reproduction.Notebooks)
        {
            var page = Path.Combine(outDir, "notebooks", name + ".html");
            var done = File.Exists(Path.Combine(outDir, "notebooks", $".{name}.done.json"));
            var status = done ? "<span class=\"ok\">done</span>" : name == failedNotebook ? "<span class=\"fail\">failed</span>" : "not run";
            var links = File.Exists(page) ? $"<a href=\"notebooks/{name}.html\">HTML</a> · <a href=\"notebooks/{name}.ipynb\">ipynb</a>" : "";
            html.Append($"<tr><td>{E(name)}</td><td>{E(reproduces)}</td><td>{status}</td><td>{links}</td></tr>");
        }
        html.Append("</table>");

        var results = LoadResults(outDir);
        AppendHeadline(html, results, options.Data);
        AppendPrototypeSweep(html, results);
        AppendLayerPeaks(html, results);
        AppendCsvList(html, outDir);

        html.Append("<h2>Environment</h2><table>");
        foreach (var (name, value) in EnvironmentInfo.Describe()) html.Append($"<tr><td>{E(name)}</td><td>{E(value)}</td></tr>");
        var seeds = results.Select(r => r.Seed).Distinct().OrderBy(s => s).ToList();
        html.Append($"<tr><td>seeds in results</td><td>{E(seeds.Count == 0 ? "none yet" : string.Join(", ", seeds))}</td></tr></table>");
        html.Append("</body></html>\n");
        return html.ToString();
    }

    /// <summary>Every row of every shared-schema results CSV under the output folder.</summary>
    public static IReadOnlyList<ResultRow> LoadResults(string outDir)
    {
        var rows = new List<ResultRow>();
        if (!Directory.Exists(outDir)) return rows;
        foreach (var csv in Directory.EnumerateFiles(outDir, "*.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (!IsResultsCsv(csv)) continue;
            rows.AddRange(ResultsTable.Read(csv));
        }
        return rows;
    }

    static bool IsResultsCsv(string path)
    {
        using var reader = new StreamReader(path);
        return reader.ReadLine()?.Trim() == string.Join(",", ResultsTable.Columns);
    }

    /// <summary>
    /// Table 5 at our scale: rows of an experiment ending in "table5" (notebook 03 writes "03-cgp-ablation/table5"),
    /// one line per (dataset, model), one column per probe with the mean over seeds of the task's main metric
    /// (accuracy where a task reports it, i.e. single-label tasks, else mAP); then the paper's AS-20k lines for
    /// the same models, labelled.
    /// </summary>
    static void AppendHeadline(StringBuilder html, IReadOnlyList<ResultRow> results, string data)
    {
        html.Append("<h2>Headline numbers (Table 5 at our scale)</h2>");
        var table5 = MainMetric(results.Where(r => r.Experiment.EndsWith("table5", StringComparison.Ordinal)));
        if (table5.Count == 0)
        {
            html.Append("<p>No Table 5 results yet (notebook 03 writes them).</p>");
            return;
        }
        var probes = ProbeOrder.Where(p => table5.Any(r => r.Probe == p)).ToList();
        html.Append("<table><tr><th>source</th><th>dataset</th><th>model</th><th>metric</th>");
        foreach (var p in probes) html.Append($"<th>{E(p)}</th>");
        html.Append("</tr>");
        foreach (var group in table5.GroupBy(r => (r.Dataset, r.Model, r.Metric)).OrderBy(g => g.Key.Dataset, StringComparer.Ordinal).ThenBy(g => g.Key.Model, StringComparer.Ordinal))
        {
            html.Append($"<tr><td>ours</td><td>{E(group.Key.Dataset)}</td><td>{E(group.Key.Model)}</td><td>{E(group.Key.Metric)}</td>");
            foreach (var p in probes)
            {
                var values = group.Where(r => r.Probe == p).Select(r => r.Value).ToList();
                html.Append($"<td class=\"n\">{(values.Count == 0 ? "" : values.Average().ToString("F2", CultureInfo.InvariantCulture))}</td>");
            }
            html.Append("</tr>");
        }
        foreach (var paperModel in table5.Select(r => PaperModel(r.Model)).OfType<string>().Distinct().Order(StringComparer.Ordinal))
        {
            html.Append($"<tr class=\"paper\"><td>paper (AS-20k, ViT-B on GPU)</td><td>AS-20k</td><td>{E(paperModel)}</td><td>mAP</td>");
            foreach (var p in probes)
                html.Append($"<td class=\"n\">{(PaperResults.Lookup(paperModel, "AS-20k", p) is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "")}</td>");
            html.Append("</tr>");
        }
        var ours = data == ExperimentData.Synth ? "the embedded synthetic benchmark" : $"the manifests in {data}";
        html.Append($"</table><p>Ours: models of this preset pre-trained on {E(ours)}; the paper's: ViT-B pre-trained on AudioSet-2M " +
                    "on GPUs. Compare the ordering of the probes and the gap between them, not the values.</p>");
    }

    /// <summary>Figure 2 at our scale: CGP score for each K (mean over seeds), one line per checkpoint.</summary>
    static void AppendPrototypeSweep(StringBuilder html, IReadOnlyList<ResultRow> results)
    {
        var sweep = MainMetric(results.Where(r => r.Experiment.EndsWith("k-sweep", StringComparison.Ordinal) && r.K is not null));
        if (sweep.Count == 0) return;
        var ks = sweep.Select(r => r.K!.Value).Distinct().Order().ToList();
        html.Append("<h2>Figure 2 at our scale: CGP score vs number of prototypes K</h2><table><tr><th>model</th><th>metric</th>");
        foreach (var k in ks) html.Append($"<th>K={k}</th>");
        html.Append("</tr>");
        foreach (var group in sweep.GroupBy(r => (r.Model, r.Metric)))
        {
            html.Append($"<tr><td>{E(group.Key.Model)}</td><td>{E(group.Key.Metric)}</td>");
            foreach (var k in ks)
            {
                var values = group.Where(r => r.K == k).Select(r => r.Value).ToList();
                html.Append($"<td class=\"n\">{(values.Count == 0 ? "" : values.Average().ToString("F2", CultureInfo.InvariantCulture))}</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</table><p class=\"paper\">Paper (Figure 2): the CGP score rises with K with diminishing returns; default K = 10,000 on ViT-B.</p>");
    }

    /// <summary>
    /// Figure 4 at our scale: for each checkpoint, the block whose own linear probe scores best and the block with
    /// the largest CGP gate weight (1-based, of the encoder's depth), beside where the paper finds the peak.
    /// </summary>
    static void AppendLayerPeaks(StringBuilder html, IReadOnlyList<ResultRow> results)
    {
        var layerwise = results.Where(r => r.Experiment.StartsWith("04-layerwise", StringComparison.Ordinal) && r.Layer is not null).ToList();
        if (layerwise.Count == 0) return;
        html.Append("<h2>Figure 4 at our scale: where the task information peaks</h2><table><tr><th>model</th>" +
                    "<th>best per-block LP (block / depth)</th><th>largest CGP gate (block / depth)</th><th>paper (ViT-B, 12 blocks)</th></tr>");
        foreach (var model in layerwise.Select(r => r.Model).Distinct().Order(StringComparer.Ordinal))
        {
            var lp = MainMetric(layerwise.Where(r => r.Model == model && r.Probe == "layer-lp"))
                .GroupBy(r => r.Layer!.Value).Select(g => (Layer: g.Key, Value: g.Average(r => r.Value))).ToList();
            var gate = layerwise.Where(r => r.Model == model && r.Probe == "cgp" && r.Metric == "gate")
                .GroupBy(r => r.Layer!.Value).Select(g => (Layer: g.Key, Value: g.Average(r => r.Value))).ToList();
            int depth = Math.Max(lp.Count, gate.Count);
            string Peak(List<(int Layer, double Value)> xs) =>
                xs.Count == 0 ? "" : $"{xs.MaxBy(x => x.Value).Layer + 1} / {depth} ({xs.Max(x => x.Value).ToString("F2", CultureInfo.InvariantCulture)})";
            var paper = model switch
            {
                "eat" => "EAT: about block 7 (middle)",
                "bat" => "BAT: blocks 10-12 (last)",
                "bat-cnn" => "BAT with CNN decoder: between the two",
                _ => "",
            };
            html.Append($"<tr><td>{E(model)}</td><td class=\"n\">{E(Peak(lp))}</td><td class=\"n\">{E(Peak(gate))}</td><td class=\"paper\">{E(paper)}</td></tr>");
        }
        html.Append("</table>");
    }

    /// <summary>
    /// The rows of each dataset's main metric: accuracy where the task reports it (single-label tasks, which
    /// also report mAP), else mAP. Mixing the two would average unlike numbers.
    /// </summary>
    static List<ResultRow> MainMetric(IEnumerable<ResultRow> rows)
    {
        var scored = rows.Where(r => r.Metric is "map" or "accuracy").ToList();
        var accuracyTasks = scored.Where(r => r.Metric == "accuracy").Select(r => r.Dataset).ToHashSet();
        return scored.Where(r => r.Metric == (accuracyTasks.Contains(r.Dataset) ? "accuracy" : "map")).ToList();
    }

    /// <summary>Our variant names -> the paper's model names (the BAT variants map to BAT, the EAT-style one to EAT).</summary>
    static string? PaperModel(string model) => model switch
    {
        "eat" => "EAT",
        "bat" => "BAT",
        _ => null,
    };

    static void AppendCsvList(StringBuilder html, string outDir)
    {
        html.Append("<h2>CSV files</h2><ul>");
        foreach (var csv in Directory.EnumerateFiles(outDir, "*.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(outDir, csv).Replace('\\', '/');
            if (relative.StartsWith("data/", StringComparison.Ordinal)) continue; // the dataset's manifests, not results
            html.Append($"<li><a href=\"{E(relative)}\">{E(relative)}</a>{(IsResultsCsv(csv) ? " (shared results schema)" : "")}</li>");
        }
        html.Append("</ul>");
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
