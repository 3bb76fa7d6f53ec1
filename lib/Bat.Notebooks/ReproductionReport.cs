using System.Globalization;
using System.Net;
using System.Text;
using Bat.Experiments;
using Bat.Reporting;

namespace Bat.Notebooks;

/// <summary>
/// The report page of `bat reproduce`: links to the four executed notebooks, the headline numbers (ours beside the
/// paper's, which are labelled as such; selected by Bat.Experiments.Headlines), where every CSV is, and the
/// environment the numbers were computed in. Plain HTML without scripts: the charts live in the notebooks' own pages.
/// </summary>
public static class ReproductionReport
{
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

        var results = Headlines.LoadResults(outDir);
        AppendHeadline(html, results, options.Data);
        AppendControlMargins(html, results);
        AppendAblation(html, results);
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

    /// <summary>Table 5 at our scale (<see cref="Headlines.SelectTable5"/>), then the paper's AS-20k lines, labelled.</summary>
    static void AppendHeadline(StringBuilder html, IReadOnlyList<ResultRow> results, string data)
    {
        html.Append("<h2>Headline numbers (Table 5 at our scale)</h2>");
        if (Headlines.SelectTable5(results) is not { } table5)
        {
            html.Append("<p>No Table 5 results yet (notebook 03 writes them).</p>");
            return;
        }
        html.Append("<table><tr><th>source</th><th>dataset</th><th>model</th><th>metric</th>");
        foreach (var p in table5.Probes) html.Append($"<th>{E(p)}</th>");
        html.Append("</tr>");
        foreach (var line in table5.Ours)
        {
            html.Append($"<tr><td>ours</td><td>{E(line.Dataset)}</td><td>{E(line.Model)}</td><td>{E(line.Metric)}</td>");
            foreach (var p in table5.Probes) html.Append($"<td class=\"n\">{Number(line.ByProbe, p)}</td>");
            html.Append("</tr>");
        }
        foreach (var line in table5.Paper)
        {
            html.Append($"<tr class=\"paper\"><td>paper (AS-20k, ViT-B on GPU)</td><td>AS-20k</td><td>{E(line.Model)}</td><td>mAP</td>");
            foreach (var p in table5.Probes) html.Append($"<td class=\"n\">{Number(line.ByProbe, p)}</td>");
            html.Append("</tr>");
        }
        var ours = data == ExperimentData.Synth ? "the embedded synthetic benchmark" : $"the manifests in {data}";
        html.Append($"</table><p>Ours: models of this preset pre-trained on {E(ours)}; the paper's: ViT-B pre-trained on AudioSet-2M " +
                    "on GPUs. Compare the ordering of the probes and the gap between them, not the values.</p>");
    }

    /// <summary>
    /// Every pre-trained score read against the untrained control (same probe, same task): the margin, and in
    /// words whether it is beyond the test set's noise. Pre-training is worth only what this table shows.
    /// Single-label tasks also get the margin on macro F1 (<see cref="ControlMargins.MacroF1"/>), which an
    /// imbalanced test split cannot fill with its majority class.
    /// </summary>
    static void AppendControlMargins(StringBuilder html, IReadOnlyList<ResultRow> results)
    {
        var margins = Headlines.SelectControlMargins(results);
        if (margins.Count == 0) return;
        var macroF1 = Headlines.SelectMacroF1Margins(results).ToDictionary(m => (m.Dataset, m.Model, m.Probe));
        html.Append("<h2>Margin over the untrained control</h2><p>Each score minus the same probe's score on the untrained " +
                    "encoder of the model's own shape (same frontend, attention and seed, no update: eat's is untrained-eat). Noise: two standard errors of a proportion on the test clips.</p>" +
                    "<table><tr><th>dataset</th><th>model</th><th>probe</th><th>metric</th><th>score</th><th>control</th><th>margin</th><th>macro-F1 margin (single-label)</th></tr>");
        foreach (var m in margins)
            html.Append($"<tr><td>{E(m.Dataset)}</td><td>{E(m.Model)}</td><td>{E(m.Probe)}</td><td>{E(m.Metric)}</td>" +
                        $"<td class=\"n\">{m.Score.ToString("F2", CultureInfo.InvariantCulture)}</td><td class=\"n\">{E(PretrainVariant.ControlOf(m.Model))}: {m.Control.ToString("F2", CultureInfo.InvariantCulture)}</td>" +
                        $"<td class=\"n{(m.WithinNoise ? "" : m.Margin > 0 ? " ok" : " fail")}\">{E(m.Verdict)}</td>" +
                        (macroF1.TryGetValue((m.Dataset, m.Model, m.Probe), out var f1)
                            ? $"<td class=\"n\">{f1.Score.ToString("F2", CultureInfo.InvariantCulture)} vs {f1.Control.ToString("F2", CultureInfo.InvariantCulture)}: {E(f1.Verdict)}</td></tr>"
                            : "<td></td></tr>"));
        int within = margins.Count(m => m.WithinNoise), below = margins.Count(m => !m.WithinNoise && m.Margin < 0);
        html.Append($"</table><p>{margins.Count - within - below} of {margins.Count} scores are above the untrained control beyond noise, " +
                    $"{within} are within noise of it (no evidence that pre-training helped), {below} are below it beyond noise.</p>");
    }

    /// <summary>The ablation at our scale (<see cref="AblationTable"/>): one change per row, margins over the control
    /// and the parent row, and the paper's CGP on AS-20k for the row, labelled.</summary>
    static void AppendAblation(StringBuilder html, IReadOnlyList<ResultRow> results)
    {
        var lines = Headlines.SelectAblation(results);
        if (lines.Count == 0) return;
        static string F(IReadOnlyDictionary<string, double> values, string probe, string format) =>
            values.TryGetValue(probe, out var v) ? v.ToString(format, CultureInfo.InvariantCulture) : "";
        html.Append("<h2>Ablation: EAT to BAT one change at a time</h2><table><tr><th>variant</th><th>change (vs parent)</th><th>metric</th>");
        foreach (var p in AblationTable.Probes) html.Append($"<th>{E(p)}</th><th>{E(p)} − its control</th><th>{E(p)} − parent</th>");
        html.Append("<th class=\"paper\">paper CGP, AS-20k mAP</th></tr>");
        foreach (var line in lines)
        {
            html.Append($"<tr><td>{E(line.Variant)}</td><td>{E(line.Change)}{(line.Parent is null ? "" : E($" (vs {line.Parent})"))}</td><td>{E(line.Metric)}</td>");
            foreach (var p in AblationTable.Probes)
                html.Append($"<td class=\"n\">{F(line.Scores, p, "F2")}</td><td class=\"n\">{F(line.OverControl, p, "+0.00;-0.00")}</td>" +
                            $"<td class=\"n\">{F(line.OverParent, p, "+0.00;-0.00")}</td>");
            html.Append($"<td class=\"paper\">{E(string.Join("; ", line.Paper.Select(n => FormattableString.Invariant($"{n.Model}: {n.Value:F2}"))))}</td></tr>");
        }
        html.Append("</table><p>Ours: this preset's encoders on the primary task's test split. The paper's: CGP on AS-20k with ViT-B " +
                    "pre-trained on AudioSet-2M; it does not ablate the utterance weighting (our bat-gate → bat-cnn row).</p>");
    }

    /// <summary>Figure 2 at our scale: CGP score for each K (mean over seeds), one line per checkpoint.</summary>
    static void AppendPrototypeSweep(StringBuilder html, IReadOnlyList<ResultRow> results)
    {
        if (Headlines.SelectPrototypeSweep(results) is not { } sweep) return;
        html.Append("<h2>Figure 2 at our scale: CGP score vs number of prototypes K</h2><table><tr><th>model</th><th>metric</th>");
        foreach (var k in sweep.Ks) html.Append($"<th>K={k}</th>");
        html.Append("</tr>");
        foreach (var (model, metric, byK) in sweep.Lines)
        {
            html.Append($"<tr><td>{E(model)}</td><td>{E(metric)}</td>");
            foreach (var value in byK) html.Append($"<td class=\"n\">{(value is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "")}</td>");
            html.Append("</tr>");
        }
        html.Append("</table><p class=\"paper\">Paper (Figure 2): the CGP score rises with K with diminishing returns; default K = 10,000 on ViT-B.</p>");
    }

    /// <summary>Figure 4 at our scale: where the task information peaks (1-based blocks), beside the paper's peak.</summary>
    static void AppendLayerPeaks(StringBuilder html, IReadOnlyList<ResultRow> results)
    {
        var peaks = Headlines.SelectLayerPeaks(results);
        if (peaks.Count == 0) return;
        html.Append("<h2>Figure 4 at our scale: where the task information peaks</h2><table><tr><th>model</th>" +
                    "<th>best per-block LP (block / depth)</th><th>largest CGP gate (block / depth)</th><th>paper (ViT-B, 12 blocks)</th></tr>");
        foreach (var peak in peaks)
        {
            string Cell(Headlines.Peak? p) =>
                p is null ? "" : $"{p.Block + 1} / {peak.Depth} ({p.Value.ToString("F2", CultureInfo.InvariantCulture)})";
            html.Append($"<tr><td>{E(peak.Model)}</td><td class=\"n\">{E(Cell(peak.LinearProbe))}</td><td class=\"n\">{E(Cell(peak.Gate))}</td>" +
                        $"<td class=\"paper\">{E(peak.Paper)}</td></tr>");
        }
        html.Append("</table>");
    }

    static string Number(IReadOnlyDictionary<string, double> byProbe, string probe) =>
        byProbe.TryGetValue(probe, out var v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "";

    static void AppendCsvList(StringBuilder html, string outDir)
    {
        html.Append("<h2>CSV files</h2><ul>");
        foreach (var csv in Directory.EnumerateFiles(outDir, "*.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(outDir, csv).Replace('\\', '/');
            if (relative.StartsWith("data/", StringComparison.Ordinal)) continue; // the dataset's manifests, not results
            html.Append($"<li><a href=\"{E(relative)}\">{E(relative)}</a>{(Headlines.IsResultsCsv(csv) ? " (shared results schema)" : "")}</li>");
        }
        html.Append("</ul>");
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
