using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Bat.Reporting;
using Markdig;

namespace Bat.Notebooks;

/// <summary>
/// One standalone HTML page per executed notebook that works offline: markdown rendered, code and outputs shown,
/// and plotly.js inlined once in the head when a chart is present: charts are drawn from their
/// application/vnd.plotly.v1+json output (the kernel's text/html of a chart carries its own plotly.js copy).
/// </summary>
public static class HtmlExporter
{
    static readonly MarkdownPipeline markdown = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    public static string Render(NotebookDocument doc, string title)
    {
        var body = new StringBuilder();
        bool charts = false;
        foreach (var cell in doc.Cells)
        {
            var source = NotebookDocument.Source(cell);
            switch (NotebookDocument.CellType(cell))
            {
                case "markdown":
                    body.Append("<div class=\"cell markdown\">\n").Append(Markdown.ToHtml(source, markdown)).Append("</div>\n");
                    break;
                case "raw":
                    body.Append("<div class=\"cell raw\"><pre>").Append(WebUtility.HtmlEncode(source)).Append("</pre></div>\n");
                    break;
                default:
                    var count = cell["execution_count"]?.GetValue<int>().ToString() ?? " ";
                    body.Append("<div class=\"cell code\">\n")
                        .Append($"<div class=\"input\"><span class=\"prompt\">[{count}]</span><pre><code class=\"language-csharp\">")
                        .Append(WebUtility.HtmlEncode(source)).Append("</code></pre></div>\n");
                    foreach (var output in cell["outputs"] as JsonArray ?? [])
                        if (output is JsonObject o) body.Append(RenderOutput(o, ref charts));
                    body.Append("</div>\n");
                    break;
            }
        }

        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append($"<title>{WebUtility.HtmlEncode(title)}</title>\n<style>\n{Css}</style>\n");
        if (charts) html.Append("<script type=\"text/javascript\">\n").Append(PlotlyFigure.PlotlyJs.Value).Append("\n</script>\n");
        html.Append("</head>\n<body>\n<main>\n").Append(body).Append("</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    static string RenderOutput(JsonObject output, ref bool charts)
    {
        switch (output["output_type"]?.GetValue<string>())
        {
            case "stream":
                var name = output["name"]?.GetValue<string>() ?? "stdout";
                return $"<pre class=\"output stream {name}\">{WebUtility.HtmlEncode(NotebookDocument.JoinLines(output["text"]))}</pre>\n";
            case "error":
                var traceback = (output["traceback"] as JsonArray ?? []).Select(t => t?.GetValue<string>() ?? "");
                return $"<pre class=\"output error\">{WebUtility.HtmlEncode(string.Join("\n", traceback))}</pre>\n";
            case "display_data" or "execute_result":
                if (output["data"] is not JsonObject data) return "";
                if (data[PlotlyFigure.MimeType] is JsonObject figure)
                {
                    charts = true;   // drawn from the figure JSON; plotly.js is inlined once in the head
                    return $"<div class=\"output html\">{PlotlyFigure.Html(figure.ToJsonString(), inlinePlotlyJs: false)}</div>\n";
                }
                if (data["text/html"] is { } h)
                {
                    var html = NotebookDocument.JoinLines(h);
                    charts |= html.Contains("Plotly.newPlot", StringComparison.Ordinal);
                    return $"<div class=\"output html\">{html}</div>\n";
                }
                if (data["image/svg+xml"] is { } svg) return $"<div class=\"output\">{NotebookDocument.JoinLines(svg)}</div>\n";
                if (data["image/png"] is { } png) return $"<div class=\"output\"><img src=\"data:image/png;base64,{NotebookDocument.JoinLines(png).Trim()}\"></div>\n";
                if (data["text/markdown"] is { } md) return $"<div class=\"output markdown\">{Markdown.ToHtml(NotebookDocument.JoinLines(md), markdown)}</div>\n";
                if (data["text/plain"] is { } text) return $"<pre class=\"output text\">{WebUtility.HtmlEncode(NotebookDocument.JoinLines(text))}</pre>\n";
                return "";
            default:
                return "";
        }
    }

    const string Css = """
        body { font-family: system-ui, sans-serif; margin: 0; background: #fafafa; color: #222; }
        main { max-width: 1100px; margin: 0 auto; padding: 1.5em; }
        .cell { margin: 1em 0; }
        .input { display: flex; gap: .5em; }
        .prompt { color: #888; font-family: monospace; min-width: 3em; text-align: right; padding-top: .6em; }
        pre { margin: 0; padding: .6em; overflow-x: auto; flex: 1; }
        .input pre { background: #f0f0f4; border: 1px solid #ddd; border-radius: 4px; }
        .output { margin: .4em 0 0 3.5em; }
        .stream.stderr { background: #fff4f4; }
        .error { background: #fdd; color: #900; }
        table.bat-table { border-collapse: collapse; font-size: .9em; }
        table.bat-table th, table.bat-table td { border: 1px solid #ccc; padding: .2em .6em; text-align: right; }
        table.bat-table th { background: #eee; }
        .markdown table { border-collapse: collapse; }
        .markdown th, .markdown td { border: 1px solid #ccc; padding: .2em .6em; }
        code { font-family: ui-monospace, monospace; }

        """;
}
