using Bat.Notebooks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using static Bat.Tests.Runner.RunnerTestKit;

namespace Bat.Tests.Runner;

public class DirectiveTests
{
    static string ErrorOf(string source)
    {
        var (result, nb) = RunInProcess(Notebook(("code", "1", null), ("code", source, null)));
        Assert.False(result.Succeeded);
        return Outputs(nb, 1).Single()!["evalue"]!.GetValue<string>();
    }

    [Fact]
    public void Reference_to_a_carried_assembly_uses_the_loaded_copy_even_if_the_path_does_not_exist()
    {
        var (result, nb) = RunInProcess(Notebook(("code",
            "#r \"../no/such/folder/Bat.Core.dll\"\n#r \"nuget: Plotly.NET.CSharp, 0.14.0\"\n#r \"nuget:CsvHelper\"\n" +
            "typeof(Bat.BatException).Assembly == typeof(Bat.Notebooks.NotebookRunner).Assembly.GetReferencedAssemblies()" +
            ".Select(System.Reflection.Assembly.Load).First(a => a.GetName().Name == \"Bat.Core\")", null)));
        Assert.True(result.Succeeded, result.Error);
        Assert.Equal("True", Text(Outputs(nb, 0)[0]!["data"]!["text/plain"]));
    }

    [Fact]
    public void Uncarried_nuget_package_is_an_error_naming_cell_and_package()
    {
        var evalue = ErrorOf("#r \"nuget: Newtonsoft.Json, 13.0.1\"\n1");
        Assert.StartsWith("cell 2 (id ", evalue);
        Assert.Contains("NuGet package 'Newtonsoft.Json' is not carried", evalue);
    }

    [Fact]
    public void Unknown_magic_is_an_error_and_csharp_magic_is_accepted()
    {
        Assert.Contains("magic command '#!fsharp' is not supported", ErrorOf("#!fsharp\nlet x = 1"));
        var (result, nb) = RunInProcess(Notebook(("code", "#!csharp\n6 * 7", null)));
        Assert.True(result.Succeeded, result.Error);
        Assert.Equal("42", Text(Outputs(nb, 0)[0]!["data"]!["text/plain"]));
    }

    [Fact]
    public void Reference_to_another_dll_is_loaded_from_its_path_and_kept_for_later_cells()
    {
        var dir = TempDir();
        var dll = Path.Combine(dir, "RunnerTestExt.dll");
        var compilation = CSharpCompilation.Create("RunnerTestExt",
            [CSharpSyntaxTree.ParseText("namespace RunnerTestExt { public static class Hello { public static string Say() => \"hi from ext\"; } }")],
            [MetadataReference.CreateFromFile(typeof(object).Assembly.Location)],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Assert.True(compilation.Emit(dll).Success);

        var (result, nb) = RunInProcess(Notebook(
            ("code", "var prefix = \">\";\n#r \"" + dll + "\"\nConsole.WriteLine(prefix + RunnerTestExt.Hello.Say());", null),
            ("code", "RunnerTestExt.Hello.Say().Length", null)));
        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(">hi from ext\n", Text(Outputs(nb, 0)[0]!["text"]));
        Assert.Equal("11", Text(Outputs(nb, 1)[0]!["data"]!["text/plain"]));
    }

    [Fact]
    public void Missing_uncarried_dll_is_an_error_of_that_cell()
    {
        var evalue = ErrorOf("#r \"/no/such/Thing.dll\"\n1");
        Assert.StartsWith("cell 2 (id ", evalue);
        Assert.Contains("#r \"/no/such/Thing.dll\": file not found", evalue);
    }

    [Fact]
    public void Directive_lines_keep_compiler_line_numbers_of_the_cell()
    {
        var evalue = ErrorOf("#!time\n#r \"nuget: CsvHelper\"\nint x = \"text\";");
        Assert.Contains("cell 2(3,", evalue);
        Assert.Contains("CS0029", evalue);
    }
}
