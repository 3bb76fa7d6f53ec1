using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Tests.Common;

/// <summary>
/// TorchSharp 0.107 turns a number passed to a tensor op (<c>x * 2.0</c>, <c>x.clamp_min(1e-10)</c>) into a
/// <see cref="Scalar"/> that nothing references once its native handle has been read. If another thread triggers
/// a garbage collection during the native call, the finalizer can free the Scalar while libtorch still reads it:
/// "Unknown scalar type" or "INTERNAL ASSERT FAILED at Scalar.h", at random, in long multi-threaded runs (the data
/// loader thread allocates all the time). The library therefore keeps every Scalar it passes reachable: a
/// <c>static readonly Scalar</c> for constants, a <c>using Scalar</c> local for values known at run time. These
/// tests show the failure is real and keep implicit conversions out of lib/Bat.
/// </summary>
public class ScalarLifetimeGuardTests
{
    /// <summary>The repository root, found from the test's output folder.</summary>
    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BatNotebooks.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Every place in lib/Bat where a value is implicitly converted to a Scalar outside a Scalar declaration.</summary>
    static List<string> ImplicitScalarConversions()
    {
        var root = Path.Combine(RepoRoot(), "lib", "Bat");
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToList();
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, path: f)).ToList();
        // The SDK's implicit usings of a library project (ImplicitUsings=enable).
        var implicitUsings = CSharpSyntaxTree.ParseText(string.Join("\n", new[] { "System", "System.Collections.Generic", "System.IO", "System.Linq",
            "System.Net.Http", "System.Threading", "System.Threading.Tasks" }.Select(n => $"global using global::{n};")), parse, path: "ImplicitUsings.cs");
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("BatScan", trees.Append(implicitUsings), references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Take(3).ToList();
        Assert.True(errors.Count == 0, "the scan could not compile lib/Bat: " + string.Join("; ", errors));

        var scalar = compilation.GetTypeByMetadataName("TorchSharp.Scalar")!;
        var tensor = compilation.GetTypeByMetadataName("TorchSharp.torch+Tensor")!;
        var found = new List<string>();
        foreach (var tree in trees)
        {
            var model = compilation.GetSemanticModel(tree);
            // Tensor's operators that take a number (x * 2.0, 1 - x, x /= n) build the Scalar inside TorchSharp.
            foreach (var node in tree.GetRoot().DescendantNodes().Where(n => n is BinaryExpressionSyntax or AssignmentExpressionSyntax))
            {
                if (model.GetSymbolInfo(node).Symbol is not IMethodSymbol { MethodKind: MethodKind.UserDefinedOperator } op) continue;
                if (!SymbolEqualityComparer.Default.Equals(op.ContainingType, tensor)) continue;
                if (!op.Parameters.Any(p => p.Type.SpecialType is SpecialType.System_Double or SpecialType.System_Single or SpecialType.System_Int32 or SpecialType.System_Int64)) continue;
                var line = tree.GetLineSpan(node.Span).StartLinePosition.Line + 1;
                found.Add($"{Path.GetRelativePath(root, tree.FilePath)}:{line}: {node}");
            }
            foreach (var expression in tree.GetRoot().DescendantNodes().OfType<ExpressionSyntax>())
            {
                var info = model.GetTypeInfo(expression);
                if (!SymbolEqualityComparer.Default.Equals(info.ConvertedType, scalar) || SymbolEqualityComparer.Default.Equals(info.Type, scalar)) continue;
                if (info.Type is null) continue;
                // `Scalar s = 2.0;` / `static readonly Scalar Two = 2.0;` keep the Scalar referenced: allowed.
                if (expression.Parent is EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax }) continue;
                // The name in `a.B` reports the same conversion as `a.B` itself: judge the whole access.
                if (expression.Parent is MemberAccessExpressionSyntax access && access.Name == expression) continue;
                var line = tree.GetLineSpan(expression.Span).StartLinePosition.Line + 1;
                found.Add($"{Path.GetRelativePath(root, tree.FilePath)}:{line}: {expression}");
            }
        }
        return found;
    }

    [Fact]
    public void Library_passes_no_temporary_scalars_to_torch()
    {
        var sites = ImplicitScalarConversions();
        Assert.True(sites.Count == 0,
            $"{sites.Count} implicit conversions to TorchSharp.Scalar in lib/Bat (use a static readonly or `using` Scalar):\n" + string.Join("\n", sites));
    }

    /// <summary>TorchSharp methods that build a temporary Scalar inside themselves, out of our reach.</summary>
    [Fact]
    public void Library_avoids_torchsharp_calls_that_make_temporary_scalars_internally()
    {
        var banned = new[] { ".square()", "optim.AdamW(", "optim.Adam(", "optim.SGD(" };
        var root = Path.Combine(RepoRoot(), "lib", "Bat");
        var hits = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/"))
            .SelectMany(f => File.ReadAllLines(f).Select((text, i) => (f, i, text)))
            .Where(x => !x.text.TrimStart().StartsWith("//") && banned.Any(b => x.text.Contains(b)))
            .Select(x => $"{Path.GetRelativePath(root, x.f)}:{x.i + 1}: {x.text.Trim()}")
            .ToList();
        Assert.True(hits.Count == 0, "calls that create Scalars inside TorchSharp (use x * x, Bat.AdamW):\n" + string.Join("\n", hits));
    }

    [Fact]
    public void Kept_scalars_survive_a_collecting_thread_where_temporaries_would_not_be_safe()
    {
        // The safe pattern under the same stress that breaks `x.square()` / `x * 2.0` within seconds:
        // a thread that allocates Scalars and collects garbage as fast as it can.
        using var two = (Scalar)2.0;
        using var floor = (Scalar)1e-10;
        using var x = rand(64, 257, dtype: ScalarType.Float64);
        using var expected = (x * x).clamp_min(floor).log().mul(two);
        var stop = false;
        var churn = new Thread(() => { while (!Volatile.Read(ref stop)) { for (int i = 0; i < 2000; i++) _ = (Scalar)1.5; GC.Collect(); } });
        churn.Start();
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(3))
            {
                using var scope = NewDisposeScope();
                var y = (x * x).clamp_min(floor).log().mul(two);
                Assert.True(y.allclose(expected, rtol: 0, atol: 0));
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            churn.Join();
        }
    }
}
