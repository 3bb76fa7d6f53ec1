using System.Text.Json.Nodes;
using Bat.Notebooks;
using static Bat.Tests.Runner.RunnerTestKit;

namespace Bat.Tests.Runner;

public class ParameterTests
{
    static readonly string ParamsNotebook = Notebook(
        ("code", "string Preset = \"tiny\";\nint Steps = 3;\nlong Big = 1;\ndouble Lr = 0.5;\nfloat Tau = 1f;\nbool Fast = false;\nvar Name = \"x\";", ["parameters"]),
        ("code", "Console.WriteLine($\"{Preset}|{Steps}|{Big}|{Lr}|{Tau}|{Fast}|{Name}\");", null));

    static NotebookRunOptions With(params (string, string)[] values) =>
        new() { Parameters = values.ToDictionary(v => v.Item1, v => v.Item2) };

    [Fact]
    public void Declarations_of_the_parameters_cell_are_parsed_with_their_types()
    {
        var decls = NotebookParameters.Parse("string Preset = \"tiny\"; // preset\nint Steps = 3;\nvar Lr = 0.5;\nvoid F() { int inner = 1; }");
        Assert.Equal([("Preset", "string"), ("Steps", "int"), ("Lr", "double")], decls.Select(d => (d.Name, d.Type)));
    }

    [Fact]
    public void Overrides_are_injected_after_the_parameters_cell_and_used()
    {
        var (result, nb) = RunInProcess(ParamsNotebook,
            With(("Preset", "smoke \"quoted\""), ("Steps", "7"), ("Big", "12345678901"), ("Lr", "1e-3"), ("Tau", "0.25"), ("Fast", "true"), ("Name", "y")));
        Assert.True(result.Succeeded, result.Error);
        var injected = nb["cells"]![1]!;
        Assert.Contains("injected-parameters", ((JsonArray)injected["metadata"]!["tags"]!).Select(t => t!.GetValue<string>()));
        var source = Text(injected["source"]);
        Assert.Contains("int Steps = 7;", source);
        Assert.Contains("string Preset = \"smoke \\\"quoted\\\"\";", source);
        Assert.Equal("smoke \"quoted\"|7|12345678901|0.001|0.25|True|y\n", Text(Outputs(nb, 2)[0]!["text"]));
    }

    [Fact]
    public void Without_overrides_defaults_apply_and_nothing_is_injected()
    {
        var (result, nb) = RunInProcess(ParamsNotebook);
        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(2, Cells(nb).Count);
        Assert.Equal("tiny|3|1|0.5|1|False|x\n", Text(Outputs(nb, 1)[0]!["text"]));
    }

    [Fact]
    public void A_rerun_replaces_the_injected_cell_of_an_earlier_run()
    {
        var (first, _) = RunInProcess(ParamsNotebook, With(("Steps", "5")));
        var (second, nb) = RunInProcess(File.ReadAllText(first.OutputNotebook), With(("Steps", "6")));
        Assert.True(second.Succeeded, second.Error);
        Assert.Equal(3, Cells(nb).Count);
        Assert.Contains("|6|", Text(Outputs(nb, 2)[0]!["text"]));
    }

    [Theory]
    [InlineData("Steps", "3.5", "parameter Steps is declared int; '3.5' is not a valid int")]
    [InlineData("Fast", "yes", "parameter Fast is declared bool; 'yes' is not a valid bool")]
    [InlineData("Lr", "abc", "parameter Lr is declared double")]
    [InlineData("Nope", "1", "unknown parameter 'Nope'")]
    public void Bad_overrides_are_errors_naming_the_notebook(string name, string value, string message)
    {
        var e = Assert.Throws<BatException>(() => RunInProcess(ParamsNotebook, With((name, value))));
        Assert.Contains(".ipynb: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Overrides_without_a_parameters_cell_are_an_error()
    {
        var e = Assert.Throws<BatException>(() => RunInProcess(Notebook(("code", "int A = 1;", null)), With(("A", "2"))));
        Assert.Contains("no code cell is tagged \"parameters\"", e.Message);
    }

    [Fact]
    public void Cli_param_option_overrides_and_reports_type_errors_on_one_line()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "p.ipynb");
        File.WriteAllText(path, ParamsNotebook);
        var (code, stdout, stderr) = RunBat(dir, "notebook", "run", path, "--param", "Steps=9", "--param", "Preset=a=b", "--out", Path.Combine(dir, "out"));
        Assert.True(code == 0, stderr);
        Assert.Contains("a=b|9|", stdout);
        var (bad, _, badErr) = RunBat(dir, "notebook", "run", path, "--param", "Steps=many", "--out", Path.Combine(dir, "out"));
        Assert.Equal(1, bad);
        Assert.StartsWith("error: ", badErr.Trim());
        Assert.Contains("'many' is not a valid int", badErr);
    }
}
