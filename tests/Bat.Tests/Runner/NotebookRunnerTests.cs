using System.Text.Json.Nodes;
using Bat.Notebooks;
using Bat.Reporting;
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

        Assert.Equal("loaded 3\n", Text(Outputs(nb, 1)[0]!["text"])); // a torch op: the native library loaded in the kernel
    }

    [Fact]
    public void Older_nbformat_without_cell_ids_gets_unique_ids_and_is_written_as_45()
    {
        var old = """
            {"nbformat": 4, "nbformat_minor": 2, "metadata": {"custom": {"keep": true}},
             "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Old\n", "file"]},
                       {"cell_type": "code", "metadata": {}, "execution_count": 7, "outputs": [], "source": ["1 +\n", "2"]}]}
            """;
        var (result, nb) = RunInProcess(old);
        Assert.True(result.Succeeded, result.Error);
        AssertValid(nb);
        Assert.Equal(5, nb["nbformat_minor"]!.GetValue<int>());
        var ids = Cells(nb).Select(c => c!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(2, ids.Distinct().Count());
        Assert.True(nb["metadata"]!["custom"]!["keep"]!.GetValue<bool>()); // unknown metadata survives
        Assert.Equal(1, nb["cells"]![1]!["execution_count"]!.GetValue<int>());
        Assert.Contains("<pre>3</pre>", Text(Outputs(nb, 1)[0]!["data"]!["text/html"]));
        Assert.Equal(["# Old\n", "file"], ((JsonArray)nb["cells"]![0]!["source"]!).Select(l => l!.GetValue<string>()));
    }

    [Fact]
    public void Streams_are_captured_per_cell_in_order_and_the_kernels_time_magic_adds_wall_time()
    {
        var (_, nb) = Basic;
        var outputs = Outputs(nb, 3);
        Assert.Equal("stream", outputs[0]!["output_type"]!.GetValue<string>());
        Assert.Equal("stdout", outputs[0]!["name"]!.GetValue<string>());
        Assert.Equal("step 0 tiny\nstep 1 tiny\nstep 2 tiny\n", Text(outputs[0]!["text"]));
        Assert.Equal("stderr", outputs[1]!["name"]!.GetValue<string>());
        Assert.Equal("to stderr\n", Text(outputs[1]!["text"]));
        Assert.Equal("scale 0.5 verbose False\n", Text(outputs[2]!["text"]));
        var time = Text(outputs[3]!["data"]!["text/plain"]);   // #!time is the kernel's: a display of the wall time
        Assert.StartsWith("Wall time: ", time);
        Assert.EndsWith("ms", time);
        Assert.Equal(4, outputs.Count);
    }

    [Fact]
    public void Display_and_final_expression_become_display_data_and_execute_result()
    {
        var (_, nb) = Basic;
        var outputs = Outputs(nb, 4);
        Assert.Equal(2, outputs.Count);
        Assert.Equal("display_data", outputs[0]!["output_type"]!.GetValue<string>());
        var html = Text(outputs[0]!["data"]!["text/html"]);   // the kernel's own table of the records
        Assert.Contains("r0", html);
        Assert.Contains("361", html);                          // r19's value

        Assert.Equal("execute_result", outputs[1]!["output_type"]!.GetValue<string>());
        Assert.Equal(4, outputs[1]!["execution_count"]!.GetValue<int>());
        Assert.Contains("<pre>60</pre>", Text(outputs[1]!["data"]!["text/html"]));

        // Charts: one display_data (x.Display()) and one execute_result, each with the plotly figure as JSON (the
        // library's formatter) and HTML drawing it; plotly.js is carried by the first chart's HTML only.
        var charts = Outputs(nb, 5);
        Assert.Equal(["display_data", "execute_result"], charts.Select(o => o!["output_type"]!.GetValue<string>()));
        var figures = charts.Select(o => o!["data"]![PlotlyFigure.MimeType]!).ToList();
        Assert.Equal("loss", figures[0]["data"]![0]!["name"]!.GetValue<string>());
        Assert.Equal([2.0, 1, 3], figures[0]["data"]![0]!["y"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal("bar", figures[1]["data"]![0]!["type"]!.GetValue<string>());
        var first = Text(charts[0]!["data"]!["text/html"]);
        var second = Text(charts[1]!["data"]!["text/html"]);
        Assert.Contains("plotly.js v2.28.0", first);
        Assert.DoesNotContain("plotly.js v2.28.0", second);
        Assert.Contains($"class=\"{PlotlyFigure.ChartClass}\"", second);
        Assert.Equal("Plotly figure \"Accuracy\" (1 traces)", Text(charts[1]!["data"]!["text/plain"]));
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
        Assert.Contains(((JsonArray)error["traceback"]!).Skip(1), t => t!.GetValue<string>().Contains("Submission#"));   // the cell's frame
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
        Assert.Contains("(1,13)", evalue); // line/column within the cell
    }

    [Fact]
    public void Timeout_per_cell_stops_a_runaway_cell()
    {
        // The second cell sleeps far past the limit: the runner stops the kernel process at the limit and records the
        // timeout. The first cell takes the kernel's compiler warm-up, so the limit is generous for a loaded machine.
        var (result, nb) = RunInProcess(
            Notebook(("code", "Console.WriteLine(\"warm\");", null),
                     ("code", "Console.WriteLine(\"started\");\nfor (int i = 0; i < 6000; i++) System.Threading.Thread.Sleep(100);", null),
                     ("code", "1", null)),
            new NotebookRunOptions { CellTimeout = TimeSpan.FromSeconds(20) });
        Assert.False(result.Succeeded);
        Assert.Equal("warm\n", Text(Outputs(nb, 0)[0]!["text"]));
        var outputs = Outputs(nb, 1);
        Assert.Equal("started\n", Text(outputs[0]!["text"]));
        Assert.Equal("TimeoutError", outputs[1]!["ename"]!.GetValue<string>());
        Assert.Contains("20 s", outputs[1]!["evalue"]!.GetValue<string>());
        Assert.Empty(Outputs(nb, 2));
    }

    /// <summary>
    /// A cell that ends the kernel process (exit, stack overflow) is an error recorded in the written notebook, and
    /// the CLI exits 2: the kernel runs in a child process, the runner outlives it.
    /// </summary>
    [Theory]
    [InlineData("Environment.Exit(3);", "exited with code 3")]
    [InlineData("int Down(int n) => Down(n + 1) + 1;\nDown(0);", "exited with code")]
    public void A_cell_that_kills_the_kernel_is_recorded_and_fails_the_run(string cell, string expected)
    {
        var dir = TempDir();
        File.WriteAllText(Path.Combine(dir, "dies.ipynb"), Notebook(("code", "Console.WriteLine(\"before\");", null), ("code", cell, null), ("code", "1", null)));
        var (code, _, stderr) = RunBat(dir, "notebook", "run", "dies.ipynb", "--out", "out");
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        var nb = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "out", "dies.ipynb")))!;
        AssertValid(nb);
        Assert.Equal("before\n", Text(Outputs(nb, 0)[0]!["text"]));
        var error = Outputs(nb, 1).Last()!;
        Assert.Equal("KernelDied", error["ename"]!.GetValue<string>());
        Assert.Contains(expected, error["evalue"]!.GetValue<string>());
        Assert.Empty(Outputs(nb, 2));
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
        Assert.Contains("<pre>2</pre>", Text(nb["cells"]![0]!["outputs"]![0]!["data"]!["text/html"]));
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
