using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Bat.Notebooks;

/// <summary>
/// Papermill-style parameters: the cell tagged "parameters" declares defaults (<c>string Preset = "tiny";</c>);
/// overrides are type-checked against those declarations and written as a new cell tagged
/// "injected-parameters" right after it, so the executed notebook shows what it ran with.
/// </summary>
public static class NotebookParameters
{
    public const string ParametersTag = "parameters";
    public const string InjectedTag = "injected-parameters";

    /// <summary>A declaration of the parameters cell; Type is the C# keyword (string, int, long, double, float, bool).</summary>
    public sealed record Declaration(string Name, string Type, string Initializer);

    public static readonly IReadOnlySet<string> SupportedTypes = new HashSet<string> { "string", "int", "long", "double", "float", "bool" };

    public static IReadOnlyList<Declaration> Parse(string source)
    {
        var root = CSharpSyntaxTree.ParseText(source, CSharpParseOptions.Default.WithKind(SourceCodeKind.Script)).GetRoot();
        var declarations = new List<Declaration>();
        foreach (var decl in root.DescendantNodes().OfType<VariableDeclarationSyntax>())
        {
            // Only top-level declarations: a script's `int x = 1;` parses as a field or a global statement.
            bool topLevel = decl.Parent is FieldDeclarationSyntax { Parent: CompilationUnitSyntax }
                            or LocalDeclarationStatementSyntax { Parent: GlobalStatementSyntax };
            if (!topLevel) continue;
            foreach (var v in decl.Variables)
            {
                var init = v.Initializer?.Value;
                var type = decl.Type.IsVar && init is LiteralExpressionSyntax lit ? LiteralType(lit) : decl.Type.ToString();
                declarations.Add(new Declaration(v.Identifier.Text, type, init?.ToString() ?? ""));
            }
        }
        return declarations;
    }

    static string LiteralType(LiteralExpressionSyntax literal) => literal.Token.Value switch
    {
        string => "string",
        int => "int",
        long => "long",
        double => "double",
        float => "float",
        bool => "bool",
        _ => "var",
    };

    /// <summary>
    /// Checks the overrides and inserts the injected-parameters cell (replacing one left by an earlier run).
    /// Throws BatException naming the notebook for an unknown name, an unsupported type or a bad value.
    /// </summary>
    public static void Inject(NotebookDocument doc, IReadOnlyDictionary<string, string> values)
    {
        doc.Cells.RemoveAll(c => NotebookDocument.Tags(c).Contains(InjectedTag));
        if (values.Count == 0) return;
        int index = doc.Cells.FindIndex(c => NotebookDocument.CellType(c) == "code" && NotebookDocument.Tags(c).Contains(ParametersTag));
        if (index < 0)
            throw new BatException(doc.Path, $"--param given but no code cell is tagged \"{ParametersTag}\"");
        var declared = Parse(NotebookDocument.Source(doc.Cells[index])).GroupBy(d => d.Name).ToDictionary(g => g.Key, g => g.Last());

        var code = new StringBuilder("// Parameters injected by `bat notebook run` (they override the cell above).\n");
        foreach (var (name, value) in values)
        {
            if (!declared.TryGetValue(name, out var d))
                throw new BatException(doc.Path, $"unknown parameter '{name}' (the parameters cell declares: {string.Join(", ", declared.Keys)})");
            code.Append($"{d.Type} {name} = {Literal(doc.Path, d, value)};\n");
        }

        var cell = new JsonObject
        {
            ["cell_type"] = "code",
            ["execution_count"] = null,
            ["id"] = doc.NewCellId(),
            ["metadata"] = new JsonObject
            {
                ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" },
                ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" },
                ["tags"] = new JsonArray(InjectedTag),
            },
            ["outputs"] = new JsonArray(),
            ["source"] = code.ToString().TrimEnd('\n'),
        };
        doc.Cells.Insert(index + 1, cell);
    }

    /// <summary>The value as a C# literal of the declared type, or a BatException saying why it is not one.</summary>
    static string Literal(string file, Declaration d, string value)
    {
        var inv = CultureInfo.InvariantCulture;
        string Bad() => throw new BatException(file, $"parameter {d.Name} is declared {d.Type}; '{value}' is not a valid {d.Type}");
        return d.Type switch
        {
            "string" => SymbolDisplay.FormatLiteral(value, quote: true),
            "int" => int.TryParse(value, NumberStyles.Integer, inv, out var i) ? i.ToString(inv) : Bad(),
            "long" => long.TryParse(value, NumberStyles.Integer, inv, out var l) ? l.ToString(inv) + "L" : Bad(),
            "double" => double.TryParse(value, NumberStyles.Float, inv, out var x) ? DoubleLiteral(x) : Bad(),
            "float" => float.TryParse(value, NumberStyles.Float, inv, out var f) ? FloatLiteral(f) : Bad(),
            "bool" => bool.TryParse(value, out var b) ? (b ? "true" : "false") : Bad(),
            _ => throw new BatException(file, $"parameter {d.Name} has type '{d.Type}'; only {string.Join(", ", SupportedTypes)} can be set with --param"),
        };
    }

    static string DoubleLiteral(double x) =>
        double.IsNaN(x) ? "double.NaN" : double.IsPositiveInfinity(x) ? "double.PositiveInfinity"
        : double.IsNegativeInfinity(x) ? "double.NegativeInfinity" : x.ToString("R", CultureInfo.InvariantCulture) + "d";

    static string FloatLiteral(float x) =>
        float.IsNaN(x) ? "float.NaN" : float.IsPositiveInfinity(x) ? "float.PositiveInfinity"
        : float.IsNegativeInfinity(x) ? "float.NegativeInfinity" : x.ToString("R", CultureInfo.InvariantCulture) + "f";
}
