using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Bat.Tests.Architecture;

/// <summary>
/// The library's namespaces form layers, and a namespace may only use namespaces of lower layers:
/// <code>
/// Bat.Experiments                          (what notebooks, `bat reproduce` and the CLI's experiment commands call)
/// Bat.Pretraining, Bat.Probing             (the two halves of the method; neither uses the other)
/// Bat.Training                             (optimiser, schedule, shuffling, best-on-validation, checkpoints)
/// Bat.Data                                 (manifests, loaders, the embedded benchmark)
/// Bat.Frontends, Bat.Model, Bat.Reporting  (spectrograms, the encoder, charts and CSVs)
/// Bat.Audio, Bat.Metrics
/// Bat                                      (Common: errors, JSON, atomic files)
/// </code>
/// Checked on the compiled meaning of every name in lib/Bat (Roslyn's semantic model), so fully qualified names
/// and static imports count as much as <c>using</c> lines. A sub-namespace belongs to its parent's layer.
/// </summary>
public class LayeringTests
{
    static readonly Dictionary<string, int> Layers = new()
    {
        ["Bat"] = 0,
        ["Bat.Audio"] = 1, ["Bat.Metrics"] = 1,
        ["Bat.Frontends"] = 2, ["Bat.Model"] = 2, ["Bat.Reporting"] = 2,
        ["Bat.Data"] = 3,
        ["Bat.Training"] = 4,
        ["Bat.Pretraining"] = 5, ["Bat.Probing"] = 5,
        ["Bat.Experiments"] = 6,
    };

    /// <summary>The layer a namespace belongs to: its own, or its closest listed parent's (Bat.Data.Synth -> Bat.Data).</summary>
    static string? Group(string ns)
    {
        for (var name = ns; name.Length > 0; name = name.Contains('.') ? name[..name.LastIndexOf('.')] : "")
            if (Layers.ContainsKey(name)) return name;
        return null;
    }

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BatNotebooks.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root (BatNotebooks.sln) not found above " + AppContext.BaseDirectory);
    }

    static readonly CSharpParseOptions Parse = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);

    /// <summary>The SDK's implicit usings (ImplicitUsings=enable in Directory.Build.props).</summary>
    const string ImplicitUsings = "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
                                  "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    /// <summary>lib/Bat compiled from source against the assemblies the tests run with (once: binding takes seconds).</summary>
    static readonly Lazy<CSharpCompilation> Library = new(() =>
    {
        var separator = Path.DirectorySeparatorChar;
        var sources = Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "lib", "Bat"), "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{separator}obj{separator}") && !p.Contains($"{separator}bin{separator}"))
            .Select(p => CSharpSyntaxTree.ParseText(File.ReadAllText(p), Parse, p))
            .Append(CSharpSyntaxTree.ParseText(ImplicitUsings, Parse, "ImplicitUsings.cs"));
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var packages = Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll").Where(p => !Path.GetFileName(p).StartsWith("Bat.", StringComparison.Ordinal));
        var references = platform.Concat(packages).DistinctBy(Path.GetFileName).Select(p => MetadataReference.CreateFromFile(p));
        return CSharpCompilation.Create("Bat.Layering", sources, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
    });

    /// <summary>"file: Bat.X uses Bat.Y.Thing" for every name in a lower layer that resolves to a higher (or the same other) layer.</summary>
    static List<string> Violations(CSharpCompilation compilation)
    {
        var violations = new List<string>();
        foreach (var tree in compilation.SyntaxTrees)
        {
            var model = compilation.GetSemanticModel(tree);
            var root = tree.GetCompilationUnitRoot();
            var own = root.DescendantNodes().OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault()?.Name.ToString();
            if (own is null || Group(own) is not { } from) continue;
            foreach (var name in root.DescendantNodes().OfType<SimpleNameSyntax>())
            {
                var symbol = model.GetSymbolInfo(name).Symbol;
                var ns = symbol switch
                {
                    INamespaceSymbol n => n.ToDisplayString(),
                    ITypeSymbol t => t.ContainingNamespace?.ToDisplayString(),
                    { ContainingType: { } type } => type.ContainingNamespace?.ToDisplayString(),
                    _ => null,
                };
                if (ns is null || Group(ns) is not { } to || to == from || Layers[to] < Layers[from]) continue;
                if (ns != "Bat" && ns.StartsWith(from + ".", StringComparison.Ordinal)) continue;
                violations.Add($"{Path.GetRelativePath(RepositoryRoot(), tree.FilePath)}:{name.GetLocation().GetLineSpan().StartLinePosition.Line + 1}: " +
                               $"{own} (layer {Layers[from]}) uses {symbol!.ToDisplayString()} from {to} (layer {Layers[to]})");
            }
        }
        return violations;
    }

    [Fact]
    public void Every_namespace_of_the_library_uses_only_lower_layers()
    {
        var compilation = Library.Value;
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Take(5).ToList();
        Assert.True(errors.Count == 0, "lib/Bat does not compile for the check: " + string.Join("\n", errors));
        var namespaces = compilation.SyntaxTrees.SelectMany(t => t.GetCompilationUnitRoot().DescendantNodes().OfType<BaseNamespaceDeclarationSyntax>())
            .Select(n => n.Name.ToString()).Distinct().ToList();
        Assert.All(namespaces, ns => Assert.True(Group(ns) is not null, $"namespace {ns} has no layer: add it to LayeringTests.Layers"));
        var violations = Violations(compilation);
        Assert.True(violations.Count == 0, "imports against the layering:\n" + string.Join("\n", violations.Distinct().Take(40)));
    }

    [Fact]
    public void An_import_from_a_lower_layer_to_a_higher_one_is_caught()
    {
        // The check itself: a Data file that reaches up into Pretraining must be reported.
        var upward = CSharpSyntaxTree.ParseText(
            "namespace Bat.Data; static class Upward { static object Plan() => Bat.Pretraining.PretrainRun.SavedConfig(\"x\"); }",
            Parse, Path.Combine(RepositoryRoot(), "lib", "Bat", "Data", "Upward.cs"));
        var violations = Violations(Library.Value.AddSyntaxTrees(upward));
        Assert.Contains(violations, v => v.Contains("Upward.cs") && v.Contains("Bat.Data (layer 3) uses") && v.Contains("Bat.Pretraining"));
    }
}
