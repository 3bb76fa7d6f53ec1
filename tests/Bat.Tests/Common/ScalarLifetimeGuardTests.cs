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
/// tests show the mechanism (a temporary Scalar is finalized while its native handle is still held, a kept one is
/// not), keep implicit conversions out of lib/Bat, and check the kept pattern under a collecting thread. The crash
/// itself is a rare race and is not reproduced here.
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
                // `a + b` is `a.add(b)`, which is `a.add(b, 1)` inside TorchSharp: a temporary alpha even between two tensors.
                if (op.Name != WellKnownMemberNames.AdditionOperatorName
                    && !op.Parameters.Any(p => p.Type.SpecialType is SpecialType.System_Double or SpecialType.System_Single or SpecialType.System_Int32 or SpecialType.System_Int64)) continue;
                var line = tree.GetLineSpan(node.Span).StartLinePosition.Line + 1;
                found.Add($"{Path.GetRelativePath(root, tree.FilePath)}:{line}: {node}");
            }
            foreach (var call in tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                if (model.GetSymbolInfo(call).Symbol is not IMethodSymbol method || !MakesTemporaryScalarInside(method, tensor)) continue;
                var line = tree.GetLineSpan(call.Span).StartLinePosition.Line + 1;
                found.Add($"{Path.GetRelativePath(root, tree.FilePath)}:{line}: {call}");
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

    /// <summary>
    /// TorchSharp 0.107 methods that pass a Scalar they made themselves to the native call (read in TorchSharp's
    /// source, src/TorchSharp/Tensor/Tensor.Math.cs, TensorExtensionMethods.cs, LinearAlgebra.cs):
    /// <c>add(other)</c> and <c>add_(other)</c> are <c>add(other, 1)</c>; <c>addcdiv(a, b)</c> is <c>addcdiv(a, b, 1)</c>;
    /// <c>t.ToSingle()</c> and its siblings read <c>t.ToScalar()</c>; <c>linalg.vector_norm</c> and
    /// <c>matrix_norm</c> pass <c>ord.ToScalar()</c>. The safe forms: <c>add(other, One)</c> with a kept Scalar,
    /// <c>item&lt;T&gt;()</c>, <c>Tensor.norm(dim)</c>.
    /// </summary>
    static bool MakesTemporaryScalarInside(IMethodSymbol method, INamedTypeSymbol tensor)
    {
        var type = method.ContainingType;
        if (SymbolEqualityComparer.Default.Equals(type, tensor))
            return method.Name switch
            {
                "add" or "add_" => method.Parameters.Length == 1,
                "addcdiv" or "addcdiv_" => method.Parameters.Length == 2,
                "ToScalar" => true,
                _ => false,
            };
        if (type.Name == "TensorExtensionMethods" && method.ReducedFrom is not null
            && SymbolEqualityComparer.Default.Equals(method.ReceiverType, tensor))
            return method.Name is "ToSingle" or "ToDouble" or "ToHalf" or "ToBFloat16" or "ToByte" or "ToSByte" or "ToInt16"
                or "ToInt32" or "ToInt64" or "ToBoolean" or "ToComplexFloat32" or "ToComplexFloat64" or "ToComplex32" or "ToComplex64";
        return type.Name == "linalg" && method.Name is "vector_norm" or "matrix_norm";
    }

    [Fact]
    public void Library_passes_no_temporary_scalars_to_torch()
    {
        var sites = ImplicitScalarConversions();
        Assert.True(sites.Count == 0,
            $"{sites.Count} temporary TorchSharp.Scalars in lib/Bat (use a static readonly or `using` Scalar, add(x, One), item<T>()):\n" + string.Join("\n", sites));
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

    /// <summary>
    /// What a TorchSharp op does with a number: build a Scalar, read its (internal) handle for the native call, keep
    /// only the handle.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static (IntPtr Handle, WeakReference Scalar) TemporaryScalar(double value)
    {
        var scalar = (Scalar)value;
        var handle = (IntPtr)typeof(Scalar).GetProperty("Handle", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!.GetValue(scalar)!;
        return (handle, new WeakReference(scalar));
    }

    [Fact]
    public void A_temporary_scalar_is_finalized_while_its_native_handle_is_still_held_and_a_kept_one_is_not()
    {
        using var kept = (Scalar)2.0;
        var keptRef = new WeakReference(kept);
        var (handle, temporary) = TemporaryScalar(2.0);
        Assert.NotEqual(IntPtr.Zero, handle);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        // The handle a native call would still be reading now belongs to a finalized (freed) Scalar: the failure mode.
        Assert.False(temporary.IsAlive, "nothing references a temporary Scalar once its handle is read, so a collection frees it");
        Assert.True(keptRef.IsAlive, "a `using` Scalar stays reachable until its scope ends");
        GC.KeepAlive(kept);
    }

    [Fact]
    public void Kept_scalars_give_exact_results_under_a_collecting_thread()
    {
        // A regression check of the safe pattern under the stress that exposes temporaries in long runs:
        // a thread that allocates Scalars and collects garbage as fast as it can.
        using var two = (Scalar)2.0;
        using var floor = (Scalar)1e-10;
        using var x = rand(64, 257, dtype: ScalarType.Float64);
        using var expected = (x * x).clamp_min(floor).log().mul(two);
        var stop = false;
        // Generation 0 only: the temporaries at risk are young, and a full collection of the shared test host stops every
        // other test running beside this one (it made this test take 20 minutes of a CI run).
        var churn = new Thread(() => { while (!Volatile.Read(ref stop)) { for (int i = 0; i < 2000; i++) _ = (Scalar)1.5; GC.Collect(0); } });
        churn.Start();
        try
        {
            for (int i = 0; i < 2000; i++)
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
