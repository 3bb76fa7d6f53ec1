using System.Text.Json.Nodes;
using Bat.Notebooks;
using static Bat.Tests.Runner.RunnerTestKit;

namespace Bat.Tests.Runner;

public class NotebookRunnerTests
{
    static readonly JsonSchemaValidator Schema = JsonSchemaValidator.Load(Fixture("nbformat.v4.5.schema.json"));

    static void AssertValid(JsonNode nb)
    {
        var errors = Schema.Validate(nb);
        Assert.True(errors.Count == 0, "nbformat 4.5 schema violations:\n" + string.Join("\n", errors));
    }

    [Fact]
    public void Fixture_written_by_nbformat_runs_and_output_is_valid_nbformat_45()
    {
        AssertValid(JsonNode.Parse(File.ReadAllText(Fixture("basic.ipynb")))!); // the reader's input is real nbformat
        var (result, nb) = Basic;

        Assert.True(result.Succeeded, result.Error);
        AssertValid(nb);
        Assert.Equal(4, nb["nbformat"]!.GetValue<int>());
        Assert.Equal(5, nb["nbformat_minor"]!.GetValue<int>());
        Assert.Equal(".net-csharp", nb["metadata"]!["kernelspec"]!["name"]!.GetValue<string>());
        Assert.Equal("csharp", nb["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());

        // Ids kept from the input, execution counts 1..n over the code cells, markdown untouched.
        var input = (JsonObject)JsonNode.Parse(File.ReadAllText(Fixture("basic.ipynb")))!;
        Assert.Equal(Cells(input).Select(c => c!["id"]!.GetValue<string>()), Cells(nb).Select(c => c!["id"]!.GetValue<string>()));
        var counts = Cells(nb).Where(c => c!["cell_type"]!.GetValue<string>() == "code").Select(c => c!["execution_count"]!.GetValue<int>());
        Assert.Equal([1, 2, 3, 4, 5], counts);
        Assert.Equal(Text(input["cells"]![0]!["source"]), Text(nb["cells"]![0]!["source"]));
        Assert.Equal("csharp", nb["cells"]![1]!["metadata"]!["polyglot_notebook"]!["kernelName"]!.GetValue<string>());

        Assert.Equal("loaded\n", Text(Outputs(nb, 1)[0]!["text"]));
    }

    [Fact]
    public void Streams_are_captured_per_cell_in_order_and_time_magic_adds_wall_time()
    {
        var (_, nb) = Basic;
        var outputs = Outputs(nb, 3);
        Assert.Equal("stream", outputs[0]!["output_type"]!.GetValue<string>());
        Assert.Equal("stdout", outputs[0]!["name"]!.GetValue<string>());
        Assert.Equal("step 0 tiny\nstep 1 tiny\nstep 2 tiny\n", Text(outputs[0]!["text"]));
        Assert.Equal("stderr", outputs[1]!["name"]!.GetValue<string>());
        Assert.Equal("to stderr\n", Text(outputs[1]!["text"]));
        var last = Text(outputs[2]!["text"]);
        Assert.StartsWith("scale 0.5 verbose False\nWall time: ", last);
        Assert.EndsWith("ms\n", last);
        Assert.Equal(3, outputs.Count);
    }

    [Fact]
    public void Display_and_final_expression_become_display_data_and_execute_result()
    {
        var (_, nb) = Basic;
        var outputs = Outputs(nb, 4);
        Assert.Equal(2, outputs.Count);
        Assert.Equal("display_data", outputs[0]!["output_type"]!.GetValue<string>());
        var html = Text(outputs[0]!["data"]!["text/html"]);
        Assert.Contains("<th>Name</th><th>Value</th>", html);
        Assert.Contains("<td>r49</td><td>2401</td>", html);
        Assert.DoesNotContain("<td>r50</td>", html);
        Assert.Contains("10 more rows (60 in all)", html);
        Assert.Contains("10 more rows", Text(outputs[0]!["data"]!["text/plain"]));

        Assert.Equal("execute_result", outputs[1]!["output_type"]!.GetValue<string>());
        Assert.Equal(4, outputs[1]!["execution_count"]!.GetValue<int>());
        Assert.Equal("60", Text(outputs[1]!["data"]!["text/plain"]));

        // Charts: one display_data (x.Display()) and one execute_result; plotly.js loader only with the first.
        var charts = Outputs(nb, 5);
        Assert.Equal(["display_data", "execute_result"], charts.Select(o => o!["output_type"]!.GetValue<string>()));
        var first = Text(charts[0]!["data"]!["text/html"]);
        var second = Text(charts[1]!["data"]!["text/html"]);
        Assert.Contains("plotly-2.28.0.min", first);
        Assert.DoesNotContain("plotly-2.28.0.min", second);
        Assert.Contains("\"name\":\"loss\"", first);
        Assert.Contains("\"type\":\"bar\"", second);
        Assert.Contains($"class=\"{DisplayFormatter.ChartClass}\"", second);
    }

    [Fact]
    public void Failing_cell_gives_error_output_stops_the_run_and_still_writes_the_notebook()
    {
        var (result, nb) = RunFixture("failing.ipynb");
        Assert.False(result.Succeeded);
        AssertValid(nb);
        Assert.Equal("before\n", Text(Outputs(nb, 0)[0]!["text"]));
        var error = Outputs(nb, 1).Single()!;
        Assert.Equal("error", error["output_type"]!.GetValue<string>());
        Assert.Equal("System.InvalidOperationException", error["ename"]!.GetValue<string>());
        Assert.StartsWith("cell 2 (id ", error["evalue"]!.GetValue<string>());
        Assert.EndsWith("broken at 42", error["evalue"]!.GetValue<string>()); // state from cell 1 carried over
        Assert.Contains("cell 2:line 2", Text(new JsonArray(((JsonArray)error["traceback"]!).Select(t => (JsonNode?)(t!.GetValue<string>() + "\n")).ToArray())));
        Assert.Empty(Outputs(nb, 2));
        Assert.Null(nb["cells"]![2]!["execution_count"]);
        Assert.Contains("broken at 42", result.Error);
    }

    [Fact]
    public void Compilation_error_names_the_cell_and_the_compiler_message()
    {
        var (result, nb) = RunInProcess(Notebook(("code", "int a = 1;", null), ("code", "var b = a + undefinedName;", null)));
        Assert.False(result.Succeeded);
        var error = Outputs(nb, 1).Single()!;
        Assert.Equal("CompilationError", error["ename"]!.GetValue<string>());
        var evalue = error["evalue"]!.GetValue<string>();
        Assert.StartsWith("cell 2 (id ", evalue);
        Assert.Contains("CS0103", evalue);
        Assert.Contains("undefinedName", evalue);
        Assert.Contains("cell 2(1,13)", evalue); // line/column within the cell
    }

    [Fact]
    public void Timeout_per_cell_stops_a_runaway_cell()
    {
        // Sleeps (no CPU) and ends by itself a few seconds later: the abandoned thread must not burn the test host.
        var (result, nb) = RunInProcess(
            Notebook(("code", "Console.WriteLine(\"started\");\nfor (int i = 0; i < 100; i++) System.Threading.Thread.Sleep(50);", null),
                     ("code", "1", null)),
            new NotebookRunOptions { CellTimeout = TimeSpan.FromSeconds(0.5) });
        Assert.False(result.Succeeded);
        var outputs = Outputs(nb, 0);
        Assert.Equal("started\n", Text(outputs[0]!["text"]));
        Assert.Equal("TimeoutError", outputs[1]!["ename"]!.GetValue<string>());
        Assert.Contains("0.5 s", outputs[1]!["evalue"]!.GetValue<string>());
        Assert.Empty(Outputs(nb, 1));
    }

    [Fact]
    public void Executed_notebook_goes_beside_the_input_as_out_ipynb_without_out_dir()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "nb.ipynb");
        File.WriteAllText(path, Notebook(("code", "1 + 1", null)));
        var (code, _, stderr) = RunBat(dir, "notebook", "run", path);
        Assert.True(code == 0, stderr);
        var nb = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "nb.out.ipynb")))!;
        Assert.Equal("2", Text(nb["cells"]![0]!["outputs"]![0]!["data"]!["text/plain"]));
        AssertValid(nb);
    }

    [Fact]
    public void Cli_exit_code_is_2_for_a_failing_cell_and_cells_run_in_the_notebook_folder()
    {
        var dir = TempDir();
        var nbDir = Directory.CreateDirectory(Path.Combine(dir, "notebooks")).FullName;
        File.Copy(Fixture("failing.ipynb"), Path.Combine(nbDir, "failing.ipynb"));
        File.WriteAllText(Path.Combine(nbDir, "cwd.ipynb"), Notebook(("code", "Console.WriteLine(Environment.CurrentDirectory);", null)));
        var outDir = Path.Combine(dir, "out");

        // Relative paths resolve against the caller's folder; cells see the notebook's folder.
        var (code, stdout, stderr) = RunBat(dir, "notebook", "run", "notebooks/cwd.ipynb", "notebooks/failing.ipynb", "--out", "out");
        Assert.Equal(2, code);
        Assert.Contains(nbDir + "\n", stdout);
        Assert.Contains("broken at 42", stderr);
        var failed = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "failing.ipynb")))!;
        Assert.Equal("error", failed["cells"]![1]!["outputs"]![0]!["output_type"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(outDir, "cwd.ipynb")));

        var (missing, _, missingErr) = RunBat(dir, "notebook", "run", "nope.ipynb");
        Assert.Equal(1, missing);
        Assert.Contains("nope.ipynb: notebook not found", missingErr);
    }
}

/// <summary>The committed notebooks this area owns run end to end with the smoke preset.</summary>
public class Notebook01Tests
{
    static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BatNotebooks.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("BatNotebooks.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Frontend_notebook_runs_and_writes_spectrograms_stats_and_results()
    {
        var outDir = TempDir();
        var results = Path.Combine(outDir, "results");
        var result = NotebookRunner.Run(Path.Combine(RepoRoot(), "notebooks", "01-frontend.ipynb"), new NotebookRunOptions
        {
            OutDir = outDir,
            Parameters = new Dictionary<string, string> { ["Preset"] = "smoke", ["OutDir"] = results },
            Log = TextWriter.Null,
        });
        Assert.True(result.Succeeded, result.Error);
        var dir = Path.Combine(results, "01-frontend");
        var kaldi = Bat.Reporting.Csv.ReadMatrix(Path.Combine(dir, "kaldi-fbank.csv"));
        var bat = Bat.Reporting.Csv.ReadMatrix(Path.Combine(dir, "bat-frontend.csv"));
        Assert.Equal(128, kaldi.GetLength(1));
        Assert.Equal(128, bat.GetLength(1));
        Assert.InRange(bat.GetLength(0) - kaldi.GetLength(0), 0, 3); // same 10 ms hop; Kaldi drops the edge frames
        var rows = Bat.Reporting.ResultsTable.Read(Path.Combine(dir, "results.csv"));
        Assert.Equal(8, rows.Count);
        Assert.All(rows, r => Assert.Equal("smoke", r.Preset));
        Assert.Equal(1.0, rows.Single(r => r.Model == "bat" && r.Metric == "dynamic_range").Value, 6); // min-max scaled
        var written = JsonNode.Parse(File.ReadAllText(result.OutputNotebook))!;
        Assert.Empty(JsonSchemaValidator.Load(Fixture("nbformat.v4.5.schema.json")).Validate(written));
    }
}
