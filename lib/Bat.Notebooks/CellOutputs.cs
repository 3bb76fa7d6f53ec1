using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Bat.Notebooks;

/// <summary>
/// One cell's outputs in nbformat shape, built from the kernel's events as they arrive: consecutive writes to one
/// stream become one stream output (as in Jupyter), displays and the return value become display_data and
/// execute_result with their mime bundles, a failure becomes the error output. Stream text is echoed to the runner's
/// own stdout and stderr, so a long headless run shows its progress.
/// </summary>
internal sealed partial class CellOutputs(int executionCount)
{
    readonly Dictionary<string, JsonObject> _displays = [];   // by the kernel's valueId, for DisplayedValueUpdated
    JsonObject? _openStream;

    public JsonArray Array { get; } = [];

    /// <summary>Takes one kernel event of the running cell.</summary>
    public void Add(string eventType, JsonObject body)
    {
        switch (eventType)
        {
            case "StandardOutputValueProduced":
                Stream("stdout", PlainText(body));
                break;
            case "StandardErrorValueProduced":
            case "ErrorProduced":   // the kernel's non-fatal errors (a failed #r, for one): shown, the cell goes on
                Stream("stderr", PlainText(body) ?? body["message"]?.GetValue<string>());
                break;
            case "DisplayedValueProduced":
                Display("display_data", body);
                break;
            case "DisplayedValueUpdated":
                if (body["valueId"]?.GetValue<string>() is { } id && _displays.TryGetValue(id, out var shown))
                    shown["data"] = MimeBundle(body);
                else Display("display_data", body);
                break;
            case "ReturnValueProduced":
                Display("execute_result", body);
                break;
        }
    }

    /// <summary>Records the kernel's failure message as the error output; returns the one-line error of the run.</summary>
    public string Fail(string label, string message)
    {
        // Compiler diagnostics start with "(line,col): error CS..."; exceptions with "Namespace.TypeException: message".
        var first = message.Split('\n')[0].TrimEnd();
        string ename, evalue;
        if (CompilerDiagnostic().IsMatch(first)) (ename, evalue) = ("CompilationError", string.Join("; ", message.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)));
        else if (ExceptionHeader().Match(first) is { Success: true } m) (ename, evalue) = (m.Groups[1].Value, m.Groups[2].Value);
        else (ename, evalue) = ("Error", first);
        return Fail(label, ename, evalue, message.Split('\n').Skip(1).Select(l => l.TrimEnd()).Where(l => l.Length > 0));
    }

    public string Fail(string label, string ename, string evalue, IEnumerable<string>? details = null)
    {
        _openStream = null;
        var traceback = new JsonArray($"{ename}: {label}: {evalue}");
        foreach (var line in details ?? []) traceback.Add(line);
        Array.Add(new JsonObject { ["output_type"] = "error", ["ename"] = ename, ["evalue"] = $"{label}: {evalue}", ["traceback"] = traceback });
        return $"{ename}: {label}: {evalue}";
    }

    void Stream(string name, string? text)
    {
        if (string.IsNullOrEmpty(text)) return;
        (name == "stderr" ? Console.Error : Console.Out).Write(text);
        if (_openStream is null || _openStream["name"]!.GetValue<string>() != name)
        {
            _openStream = new JsonObject { ["output_type"] = "stream", ["name"] = name, ["text"] = new JsonArray() };
            Array.Add(_openStream);
        }
        var joined = NotebookDocument.JoinLines(_openStream["text"]) + text;
        _openStream["text"] = NotebookDocument.SplitLines(joined);
    }

    void Display(string outputType, JsonObject body)
    {
        var data = MimeBundle(body);
        if (data.Count == 0) return;
        _openStream = null;
        var output = new JsonObject { ["output_type"] = outputType, ["data"] = data, ["metadata"] = new JsonObject() };
        if (outputType == "execute_result") output["execution_count"] = executionCount;
        Array.Add(output);
        if (body["valueId"]?.GetValue<string>() is { } id) _displays[id] = output;
    }

    /// <summary>
    /// The event's formatted values as an nbformat mime bundle: JSON mime types (application/...json) as JSON, as
    /// Jupyter front ends expect them, text as arrays of lines.
    /// </summary>
    static JsonObject MimeBundle(JsonObject body)
    {
        var data = new JsonObject();
        foreach (var value in body["formattedValues"] as JsonArray ?? [])
        {
            var mime = value?["mimeType"]?.GetValue<string>();
            var text = value?["value"]?.GetValue<string>();
            if (mime is null || text is null || value?["suppressDisplay"]?.GetValue<bool>() == true) continue;
            JsonNode? parsed = null;
            if (IsJsonMime(mime))
                try { parsed = JsonNode.Parse(text); } catch (JsonException) { }
            data[mime] = parsed ?? NotebookDocument.SplitLines(text);
        }
        return data;
    }

    public static bool IsJsonMime(string mime) => mime == "application/json" || (mime.StartsWith("application/", StringComparison.Ordinal) && mime.EndsWith("+json", StringComparison.Ordinal));

    static string? PlainText(JsonObject body) =>
        (body["formattedValues"] as JsonArray ?? []).FirstOrDefault(v => v?["mimeType"]?.GetValue<string>() == "text/plain")?["value"]?.GetValue<string>();

    [GeneratedRegex(@"^\(\d+,\d+\): error ")]
    private static partial Regex CompilerDiagnostic();

    [GeneratedRegex(@"^([A-Za-z_][\w.]*(?:Exception|Error))(?: \(0x[0-9A-Fa-f]+\))?: (.*)$")]
    private static partial Regex ExceptionHeader();
}
