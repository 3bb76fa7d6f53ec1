using System.Text;
using System.Text.Json.Nodes;

namespace Bat.Notebooks;

/// <summary>
/// The outputs of the cell that is running: stream text and display outputs in the order they happen.
/// Found through an AsyncLocal, so console writes and display() calls from tasks the cell starts land in the
/// right cell, while writes from unrelated threads (other tests, the runner itself) pass through untouched.
/// </summary>
internal sealed class CellSession
{
    static readonly AsyncLocal<CellSession?> current = new();
    public static CellSession? Current { get => current.Value; set => current.Value = value; }

    readonly object _gate = new();
    readonly List<JsonObject> _outputs = [];
    StringBuilder? _openStream;
    string? _openStreamName;
    bool _closed;

    public CellSession(DisplayFormatter formatter) => Formatter = formatter;

    public DisplayFormatter Formatter { get; }

    /// <summary>Appends stream text; consecutive writes to one stream become one output, as in Jupyter.</summary>
    public void Write(string name, string text)
    {
        if (text.Length == 0) return;
        lock (_gate)
        {
            if (_closed) return;
            if (_openStreamName != name || _openStream is null)
            {
                _openStream = new StringBuilder();
                _openStreamName = name;
                _outputs.Add(new JsonObject { ["output_type"] = "stream", ["name"] = name, ["text"] = null });
            }
            _openStream.Append(text);
            _outputs[^1]["text"] = _openStream.ToString();
        }
    }

    public void Add(JsonObject output)
    {
        lock (_gate)
        {
            if (_closed) return;
            _openStream = null;
            _openStreamName = null;
            _outputs.Add(output);
        }
    }

    /// <summary>Stops collecting (a timed-out cell may go on writing) and returns the outputs in nbformat shape.</summary>
    public JsonArray Close()
    {
        lock (_gate)
        {
            _closed = true;
            var array = new JsonArray();
            foreach (var output in _outputs)
            {
                var copy = (JsonObject)output.DeepClone();
                if (copy["output_type"]!.GetValue<string>() == "stream")
                    copy["text"] = NotebookDocument.SplitLines(copy["text"]!.GetValue<string>());
                array.Add(copy);
            }
            return array;
        }
    }
}

/// <summary>
/// Console.Out / Console.Error replacement: text written while a cell runs goes to that cell's stream output and
/// is echoed to the real console, so a long headless run shows progress.
/// </summary>
internal sealed class ConsoleRouter(TextWriter original, string streamName) : TextWriter
{
    public TextWriter Original { get; } = original;
    public override Encoding Encoding => Original.Encoding;

    public override void Write(char value) => Write(value.ToString());
    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        CellSession.Current?.Write(streamName, value);
        Original.Write(value);
    }

    public override void WriteLine(string? value) => Write((value ?? "") + NewLine);
    public override void WriteLine() => Write(NewLine);
    public override void Flush() => Original.Flush();

    /// <summary>Installs routers on Console.Out/Error once per process; they pass text through when no cell runs.</summary>
    public static void Install()
    {
        lock (installGate)
        {
            if (installedOut is not null && ReferenceEquals(Console.Out, installedOut) && ReferenceEquals(Console.Error, installedErr))
                return;
            Console.SetOut(new ConsoleRouter(Console.Out, "stdout"));
            Console.SetError(new ConsoleRouter(Console.Error, "stderr"));
            installedOut = Console.Out;
            installedErr = Console.Error;
        }
    }

    static readonly object installGate = new();
    static TextWriter? installedOut, installedErr;
}
