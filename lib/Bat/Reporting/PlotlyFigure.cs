using System.Runtime.Loader;
using System.Text;
using System.Text.Json.Nodes;

namespace Bat.Reporting;

/// <summary>
/// A plotly.js figure (traces and layout, the JSON plotly.js draws) built by <see cref="Charts"/>.
/// The suite writes the JSON itself instead of going through Plotly.NET's types: inside the .NET Interactive
/// kernel (Jupyter, VS Code, dotnet-repl) Plotly.NET 6 cannot load, because the kernel has already loaded an older
/// FSharp.Core than the one Plotly.NET needs. Displayed in a notebook, a figure is a mime bundle of
/// <c>application/vnd.plotly.v1+json</c> (VS Code and nteract draw it natively) and <c>text/html</c> that draws it
/// with plotly.js carried inline, so JupyterLab, nbconvert's HTML and our standalone HTML work offline.
/// </summary>
[TypeFormatterSource(typeof(PlotlyFigureFormatterSource), PreferredMimeTypes = [MimeType, "text/html", "text/plain"])]
public sealed class PlotlyFigure
{
    public const string MimeType = "application/vnd.plotly.v1+json";
    /// <summary>The plotly.js version shipped inside Plotly.NET 6 (the copy inlined for offline drawing).</summary>
    public const string PlotlyJsVersion = "2.28.0";
    /// <summary>Class on every chart div, so exporters and tests can find charts.</summary>
    public const string ChartClass = "bat-plotly";

    public PlotlyFigure(JsonArray data, JsonObject layout)
    {
        Data = data;
        Layout = layout;
    }

    public JsonArray Data { get; }
    public JsonObject Layout { get; }

    public string Title => Layout["title"]?["text"]?.GetValue<string>() ?? "";

    /// <summary>A copy with the figure's pixel size set.</summary>
    public PlotlyFigure WithSize(int width, int height)
    {
        var layout = (JsonObject)Layout.DeepClone();
        layout["width"] = width;
        layout["height"] = height;
        return new PlotlyFigure((JsonArray)Data.DeepClone(), layout);
    }

    /// <summary>The figure as plotly.js takes it: {"data": [...], "layout": {...}, "config": {...}}.</summary>
    public JsonObject ToJsonObject() => new()
    {
        ["data"] = Data.DeepClone(),
        ["layout"] = Layout.DeepClone(),
        ["config"] = new JsonObject { ["responsive"] = true },
    };

    public string ToJson() => ToJsonObject().ToJsonString();

    public override string ToString() => $"Plotly figure \"{Title}\" ({Data.Count} traces)";

    /// <summary>
    /// A div and the script that draws <paramref name="figureJson"/> in it once window.Plotly exists. With
    /// <paramref name="inlinePlotlyJs"/> the script first defines window.Plotly from the inlined plotly.js (unless the
    /// page has it already); otherwise it waits up to a minute for another output or the page head to provide it.
    /// </summary>
    public static string Html(string figureJson, bool inlinePlotlyJs)
    {
        var id = "bat-plot-" + Guid.NewGuid().ToString("N")[..16];
        var html = new StringBuilder();
        if (inlinePlotlyJs)
            // define/module/exports shadowed, so plotly.js's UMD header sets window.Plotly even where requirejs is
            // loaded (classic Jupyter, nbconvert's templates) instead of registering an AMD module.
            html.Append("<script type=\"text/javascript\">\nif (!window.Plotly) (function (define, module, exports) {\n")
                .Append(PlotlyJs.Value).Append("\n})();\n</script>\n");
        // "</" inside a JSON string would end the script element early; "<\/" is the same string in JSON.
        html.Append($"<div id=\"{id}\" class=\"{ChartClass}\"></div>\n")
            .Append("<script type=\"text/javascript\">\n(function () {\n")
            .Append($"  var figure = {figureJson.Replace("</", "<\\/")};\n")
            .Append($"  function draw() {{ window.Plotly.newPlot('{id}', figure.data, figure.layout, figure.config); }}\n")
            .Append("  if (window.Plotly) { draw(); return; }\n")
            .Append("  var waited = 0;\n")
            .Append("  var timer = setInterval(function () {\n")
            .Append("    if (window.Plotly) { clearInterval(timer); draw(); }\n")
            .Append("    else if ((waited += 50) > 60000) clearInterval(timer);\n")
            .Append("  }, 50);\n})();\n</script>\n");
        return html.ToString();
    }

    /// <summary>
    /// plotly.js as shipped inside Plotly.NET.dll (beside Bat.Core.dll in every build), read in a separate load
    /// context: reading a resource needs none of Plotly.NET's dependencies, so this works in the kernel too.
    /// "&lt;/script" is escaped so the text can sit inside a script element.
    /// </summary>
    public static readonly Lazy<string> PlotlyJs = new(() =>
    {
        var path = Path.Combine(Path.GetDirectoryName(typeof(PlotlyFigure).Assembly.Location) ?? "", "Plotly.NET.dll");
        if (!File.Exists(path)) throw new BatException(path, "not found: plotly.js is read from it (build the suite first)");
        var context = new AssemblyLoadContext("plotly.js", isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(path);
            var resource = $"Plotly.NET.plotly-{PlotlyJsVersion}.min.js";
            using var stream = assembly.GetManifestResourceStream(resource)
                               ?? throw new BatException(path, $"has no resource {resource}");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
        }
        finally { context.Unload(); }
    });
}

/// <summary>
/// The .NET Interactive kernel's formatters for <see cref="PlotlyFigure"/>, found by the kernel through
/// <see cref="TypeFormatterSourceAttribute"/> by name and shape (its "convention-based" formatters), so the library
/// needs no reference to the kernel's assemblies. The first figure a process formats carries plotly.js inline; later
/// ones find window.Plotly on the page.
/// </summary>
internal sealed class PlotlyFigureFormatterSource
{
    static int inlined;

    public IEnumerable<object> CreateTypeFormatters() =>
    [
        new Formatter(PlotlyFigure.MimeType, (f, w) => w.Write(f.ToJson())),
        new Formatter("text/html", (f, w) => w.Write(PlotlyFigure.Html(f.ToJson(), Interlocked.Exchange(ref inlined, 1) == 0))),
        new Formatter("text/plain", (f, w) => w.Write(f.ToString())),
    ];

    sealed class Formatter(string mimeType, Action<PlotlyFigure, TextWriter> write)
    {
        public string MimeType { get; } = mimeType;
        public Type Type => typeof(PlotlyFigure);

        public bool Format(object instance, TextWriter writer)
        {
            if (instance is not PlotlyFigure figure) return false;
            write(figure, writer);
            return true;
        }
    }
}

/// <summary>
/// The attribute the .NET Interactive formatter looks for (matched by its name, not its assembly): the kernel asks
/// <see cref="FormatterSourceType"/> for formatters the first time it displays a value of the decorated type.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;
    public string[] PreferredMimeTypes { get; set; } = [];
}
