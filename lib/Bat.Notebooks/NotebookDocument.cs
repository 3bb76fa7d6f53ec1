using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bat.Notebooks;

/// <summary>
/// An .ipynb file held as a JSON tree, so metadata this runner does not know (Polyglot's, VS Code's, Jupyter's)
/// survives a run untouched. Reads nbformat 4.x (any minor), writes nbformat 4.5: every cell gets an id.
/// </summary>
public sealed class NotebookDocument
{
    public string Path { get; }
    public JsonObject Root { get; }
    public List<JsonObject> Cells { get; }

    NotebookDocument(string path, JsonObject root, List<JsonObject> cells)
    {
        Path = path;
        Root = root;
        Cells = cells;
    }

    public JsonObject Metadata => (JsonObject)(Root["metadata"] ??= new JsonObject());

    public static NotebookDocument Load(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "notebook not found");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new BatException(path, $"not a valid .ipynb (JSON error: {e.Message})", e); }
        if (node is not JsonObject root) throw new BatException(path, "not a valid .ipynb (top level is not a JSON object)");
        var major = root["nbformat"]?.GetValue<int>();
        if (major != 4) throw new BatException(path, $"nbformat {major?.ToString() ?? "(missing)"} is not supported (need 4)");
        if (root["cells"] is not JsonArray cellArray) throw new BatException(path, "not a valid .ipynb (no 'cells' array)");

        var cells = new List<JsonObject>();
        var ids = new HashSet<string>();
        foreach (var (c, i) in cellArray.Select((c, i) => (c, i)))
        {
            if (c is not JsonObject cell || cell["cell_type"]?.GetValue<string>() is not ("code" or "markdown" or "raw"))
                throw new BatException(path, $"cell {i + 1} has no valid cell_type");
            cell["source"] = JoinLines(cell["source"]);
            cell["metadata"] ??= new JsonObject();
            // nbformat 4.5 requires unique ids matching ^[a-zA-Z0-9-_]+$ (1..64 chars); older files have none.
            var id = cell["id"]?.GetValue<string>();
            if (id is null || !IsValidId(id) || !ids.Add(id))
            {
                id = NewId(ids);
                cell["id"] = id;
            }
            cells.Add(cell);
        }
        cellArray.Clear();
        root["nbformat_minor"] = Math.Max(5, root["nbformat_minor"]?.GetValue<int>() ?? 5);
        return new NotebookDocument(path, root, cells);
    }

    public static bool IsValidId(string id) =>
        id.Length is >= 1 and <= 64 && id.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_');

    public string NewCellId() => NewId(Cells.Select(c => c["id"]!.GetValue<string>()).ToHashSet());

    static string NewId(HashSet<string> taken)
    {
        string id;
        do id = Guid.NewGuid().ToString("N")[..12]; while (!taken.Add(id));
        return id;
    }

    public static string CellType(JsonObject cell) => cell["cell_type"]!.GetValue<string>();
    public static string Source(JsonObject cell) => cell["source"]?.GetValue<string>() ?? "";
    public static string Id(JsonObject cell) => cell["id"]!.GetValue<string>();

    public static IReadOnlyList<string> Tags(JsonObject cell) =>
        cell["metadata"]?["tags"] is JsonArray tags ? tags.Select(t => t?.GetValue<string>() ?? "").ToList() : [];

    /// <summary>nbformat "multiline_string": a string or an array of lines; held joined while in memory.</summary>
    public static string JoinLines(JsonNode? node) => node switch
    {
        null => "",
        JsonArray a => string.Concat(a.Select(x => x?.GetValue<string>() ?? "")),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    /// <summary>Splits text the way nbformat writes it: lines keep their '\n', the last one may lack it.</summary>
    public static JsonArray SplitLines(string text)
    {
        var array = new JsonArray();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
            if (text[i] == '\n')
            {
                array.Add(text[start..(i + 1)]);
                start = i + 1;
            }
        if (start < text.Length) array.Add(text[start..]);
        return array;
    }

    static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        IndentSize = 1, // Jupyter's own indent, so diffs against Jupyter-saved files stay small
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // keep '<' in HTML outputs readable
    };

    /// <summary>The notebook as nbformat 4.5 JSON text (sources and text outputs as arrays of lines).</summary>
    public string ToJson()
    {
        var root = (JsonObject)Root.DeepClone();
        var cells = new JsonArray();
        foreach (var cell in Cells)
        {
            var copy = (JsonObject)cell.DeepClone();
            copy["source"] = SplitLines(Source(cell));
            cells.Add(copy);
        }
        root["cells"] = cells;
        root["nbformat"] = 4;
        root["nbformat_minor"] = 5;
        return root.ToJsonString(WriteOptions) + "\n";
    }

    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());
}
