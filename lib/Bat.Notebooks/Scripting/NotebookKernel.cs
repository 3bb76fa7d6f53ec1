using System.Text.Json.Nodes;

namespace Bat.Notebooks.Scripting;

/// <summary>
/// What a notebook cell can call, with the names the .NET Interactive C# kernel uses so a notebook runs the same
/// in VS Code Polyglot and under `bat notebook run`: <c>display(x)</c>, <c>x.Display()</c>, <c>HTML("...")</c>.
/// Imported into every cell (using static); outside a notebook run display falls back to the console.
/// </summary>
public static class NotebookKernel
{
    /// <summary>Shows a value as a display_data output of the running cell.</summary>
    public static void display(object? value)
    {
        if (CellSession.Current is not { } session)
        {
            Console.WriteLine(DisplayFormatter.Scalar(value));
            return;
        }
        var data = session.Formatter.Format(value);
        session.Add(Output("display_data", data));
    }

    /// <summary>Marks a string as HTML to show as is.</summary>
    public static HtmlString HTML(string html) => new(html);

    /// <summary>Same as <c>display(value)</c>, as an extension method.</summary>
    public static void Display(this object? value) => display(value);

    internal static JsonObject Output(string outputType, JsonObject data, int? executionCount = null)
    {
        foreach (var (mime, content) in data.ToList())
            if (content is JsonValue v && v.TryGetValue<string>(out var text))
                data[mime] = NotebookDocument.SplitLines(text);
        var output = new JsonObject { ["output_type"] = outputType, ["data"] = data, ["metadata"] = new JsonObject() };
        if (outputType == "execute_result") output["execution_count"] = executionCount;
        return output;
    }
}
