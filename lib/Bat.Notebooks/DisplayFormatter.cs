using System.Collections;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Analysis;
using Plotly.NET;

namespace Bat.Notebooks;

/// <summary>HTML that a cell wants shown as is (the result of <c>HTML("...")</c>).</summary>
public sealed record HtmlString(string Html)
{
    public override string ToString() => Html;
}

/// <summary>
/// Turns a displayed value into an nbformat mime bundle: Plotly.NET charts to text/html (plotly.js loaded once
/// per document), DataFrames and sequences of objects to an HTML table plus text/plain, everything else to text/plain.
/// One instance per notebook run: it remembers whether the plotly.js loader was already emitted.
/// </summary>
public sealed class DisplayFormatter
{
    public const int MaxRows = 50;
    /// <summary>The plotly.js Plotly.NET 6 embeds; the .ipynb loads this version, the HTML export inlines it.</summary>
    public const string PlotlyJsVersion = "2.28.0";
    /// <summary>Class on every chart div, so exporters and tests can find charts.</summary>
    public const string ChartClass = "bat-plotly";

    bool _plotlyLoaderEmitted;
    int _chartCount;

    public JsonObject Format(object? value)
    {
        var data = new JsonObject();
        switch (value)
        {
            case null:
                data["text/plain"] = "<null>";
                break;
            case string s:
                data["text/plain"] = s;
                break;
            case HtmlString h:
                data["text/html"] = h.Html;
                break;
            case GenericChart chart:
                data["text/html"] = ChartHtml(chart);
                data["text/plain"] = $"Plotly chart ({GenericChart.countTrace(chart)} traces)";
                break;
            case DataFrame frame:
                var (header, rows, total) = FrameRows(frame);
                data["text/html"] = HtmlTable(header, rows, total);
                data["text/plain"] = TextTable(header, rows, total);
                break;
            case IEnumerable sequence when !IsScalar(value.GetType()):
                FormatSequence(sequence, data);
                break;
            default:
                data["text/plain"] = Scalar(value);
                break;
        }
        return data;
    }

    /// <summary>The chart as a div plus a script that draws it once plotly.js is there (inline or loading).</summary>
    string ChartHtml(GenericChart chart)
    {
        var id = $"bat-plot-{++_chartCount}-{Guid.NewGuid():N}"[..32];
        // "</" inside a JSON string would end the script element early; "<\/" is the same string in JSON.
        var figure = GenericChart.toJson(chart).Replace("</", "<\\/");
        var html = new StringBuilder();
        if (!_plotlyLoaderEmitted)
        {
            html.Append(PlotlyLoader);
            _plotlyLoaderEmitted = true;
        }
        html.Append($"<div id=\"{id}\" class=\"{ChartClass}\"></div>\n");
        html.Append("<script type=\"text/javascript\">\n(function () {\n");
        html.Append($"  var figure = {figure};\n");
        html.Append($"  function draw() {{ window.Plotly.newPlot('{id}', figure.data, figure.layout, figure.config); }}\n");
        html.Append("  if (window.Plotly) { draw(); return; }\n");
        html.Append("  var waited = 0;\n");
        html.Append("  var timer = setInterval(function () {\n");
        html.Append("    if (window.Plotly) { clearInterval(timer); draw(); }\n");
        html.Append("    else if ((waited += 50) > 60000) clearInterval(timer);\n");
        html.Append("  }, 50);\n})();\n</script>\n");
        return html.ToString();
    }

    /// <summary>
    /// Emitted with the first chart of a document: fetches plotly.js unless the page already has it (the offline
    /// HTML export inlines it in the head, so this does nothing there). Uses requirejs where the host has it
    /// (classic Jupyter), since plotly.js then registers as an AMD module instead of a global.
    /// </summary>
    static readonly string PlotlyLoader =
        "<script type=\"text/javascript\">\n(function () {\n" +
        "  if (window.Plotly || window.batPlotlyLoading) return;\n" +
        "  window.batPlotlyLoading = true;\n" +
        $"  var src = 'https://cdn.plot.ly/plotly-{PlotlyJsVersion}.min';\n" +
        "  if (typeof window.requirejs === 'function') {\n" +
        "    window.requirejs.config({ paths: { plotly: src } });\n" +
        "    window.requirejs(['plotly'], function (p) { window.Plotly = p; });\n" +
        "  } else {\n" +
        "    var s = document.createElement('script');\n" +
        "    s.src = src + '.js'; s.charset = 'utf-8';\n" +
        "    document.head.appendChild(s);\n" +
        "  }\n})();\n</script>\n";

    void FormatSequence(IEnumerable sequence, JsonObject data)
    {
        var elementType = ElementType(sequence.GetType());
        var items = new List<object?>();
        long total = 0;
        foreach (var item in sequence)
        {
            if (total < MaxRows) items.Add(item);
            total++;
        }
        var runtimeType = elementType == typeof(object) ? items.FirstOrDefault(i => i is not null)?.GetType() ?? typeof(object) : elementType;
        if (IsScalar(runtimeType))
        {
            var shown = string.Join(", ", items.Select(Scalar));
            data["text/plain"] = total > items.Count ? $"[{shown}, ... ({total - items.Count} more)]" : $"[{shown}]";
            return;
        }
        var members = Members(runtimeType);
        List<string> header;
        List<string[]> rows;
        if (members.Count == 0)
        {
            header = ["value"];
            rows = items.Select(i => new[] { Scalar(i) }).ToList();
        }
        else
        {
            header = members.Select(m => m.Name).ToList();
            rows = items.Select(i => members.Select(m => Scalar(i is null ? null : m.Get(i))).ToArray()).ToList();
        }
        data["text/html"] = HtmlTable(header, rows, total);
        data["text/plain"] = TextTable(header, rows, total);
    }

    static (List<string> Header, List<string[]> Rows, long Total) FrameRows(DataFrame frame)
    {
        var header = frame.Columns.Select(c => c.Name).ToList();
        long total = frame.Rows.Count;
        var rows = new List<string[]>();
        for (long r = 0; r < Math.Min(total, MaxRows); r++)
            rows.Add(frame.Columns.Select(c => Scalar(c[r])).ToArray());
        return (header, rows, total);
    }

    static string HtmlTable(List<string> header, List<string[]> rows, long total)
    {
        var html = new StringBuilder("<table class=\"bat-table\">\n<thead><tr>");
        foreach (var h in header) html.Append($"<th>{WebUtility.HtmlEncode(h)}</th>");
        html.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var cell in row) html.Append($"<td>{WebUtility.HtmlEncode(cell)}</td>");
            html.Append("</tr>\n");
        }
        html.Append("</tbody>\n</table>\n");
        if (total > rows.Count) html.Append($"<p class=\"bat-more\">{total - rows.Count} more rows ({total} in all)</p>\n");
        return html.ToString();
    }

    static string TextTable(List<string> header, List<string[]> rows, long total)
    {
        var widths = header.Select((h, j) => rows.Select(r => r[j].Length).Prepend(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        void Line(IEnumerable<string> cells) =>
            text.Append(string.Join("  ", cells.Select((c, j) => c.PadRight(widths[j]))).TrimEnd()).Append('\n');
        Line(header);
        Line(widths.Select(w => new string('-', w)));
        foreach (var row in rows) Line(row);
        if (total > rows.Count) text.Append($"... {total - rows.Count} more rows ({total} in all)\n");
        return text.ToString();
    }

    sealed record Member(string Name, Func<object, object?> Get);

    static List<Member> Members(Type type)
    {
        var members = new List<Member>();
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (p.CanRead && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
                members.Add(new Member(p.Name, o => p.GetValue(o)));
        foreach (var f in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
            members.Add(new Member(f.Name, o => f.GetValue(o)));
        return members;
    }

    static Type ElementType(Type sequenceType)
    {
        if (sequenceType.IsArray) return sequenceType.GetElementType()!;
        var enumerable = sequenceType.GetInterfaces().Prepend(sequenceType)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0] ?? typeof(object);
    }

    static bool IsScalar(Type t) =>
        t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(DateTime)
        || t == typeof(DateTimeOffset) || t == typeof(TimeSpan) || t == typeof(Guid)
        || (Nullable.GetUnderlyingType(t) is { } u && IsScalar(u));

    /// <summary>One value as text: invariant culture for numbers, short lists for nested sequences.</summary>
    public static string Scalar(object? value) => value switch
    {
        null => "",
        string s => s,
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Take(8).Select(Scalar)) + (e.Cast<object?>().Skip(8).Any() ? ", ...]" : "]"),
        _ => value.ToString() ?? "",
    };
}
