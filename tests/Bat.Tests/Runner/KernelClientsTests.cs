using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Bat.Notebooks;
using Bat.Reporting;
using static Bat.Tests.Runner.RunnerTestKit;

namespace Bat.Tests.Runner;

/// <summary>
/// The four committed notebooks at the smoke preset, unmodified, through every client a reader uses: `bat notebook
/// run`, Jupyter's own client (nbclient, Debian python3-nbclient) on the ".NET (C#)" kernel registered by
/// `dotnet interactive jupyter install`, and `dotnet-repl --run`. Each run must end without an error output, and
/// Jupyter's run must write the same result rows as bat's. To keep the suite short, bat's run pre-trains once and the
/// other clients start from a copy of its pre-training folder (notebook 02 then finds its runs complete and skips
/// them; 01, 03 and 04 do all their work).
/// </summary>
public class KernelClientsTests(KernelClientsTests.BatRun bat) : IClassFixture<KernelClientsTests.BatRun>
{
    static readonly string[] Names = ["01-frontend", "02-pretrain", "03-cgp-ablation", "04-layerwise"];
    /// <summary>The Debian build of Python, where the Jupyter packages are (not a pyenv or venv python on PATH).</summary>
    const string Python = "/usr/bin/python3";

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BatNotebooks.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("BatNotebooks.sln not found above " + AppContext.BaseDirectory);
    }

    static string NotebooksDir => Path.Combine(RepoRoot(), "notebooks");

    static Dictionary<string, string> Parameters(string name, string results)
    {
        var p = new Dictionary<string, string> { ["Preset"] = "smoke", ["OutDir"] = results };
        if (name != "01-frontend") p["Data"] = "synth";
        return p;
    }

    /// <summary>`bat notebook run` of all four into one folder, shared by the tests.</summary>
    public sealed class BatRun
    {
        public string Dir { get; } = TempDir();
        public string Results => Path.Combine(Dir, "results");
        public List<NotebookRunResult> Runs { get; } = [];

        public BatRun()
        {
            foreach (var name in Names)
            {
                var result = NotebookRunner.Run(Path.Combine(NotebooksDir, name + ".ipynb"),
                    new NotebookRunOptions { OutDir = Dir, Parameters = Parameters(name, Results), Log = TextWriter.Null });
                Runs.Add(result);
                if (!result.Succeeded) break;
            }
        }

        /// <summary>A new results folder holding a copy of this run's pre-training (and data), for another client.</summary>
        public string SeedResults(string dir)
        {
            var results = Path.Combine(dir, "results");
            foreach (var sub in new[] { "pretrain", "data" })
                if (Directory.Exists(Path.Combine(Results, sub))) CopyTree(Path.Combine(Results, sub), Path.Combine(results, sub));
            return results;
        }
    }

    [Fact]
    public void Bat_notebook_run_executes_all_four_without_errors()
    {
        Assert.Equal(4, bat.Runs.Count);
        foreach (var run in bat.Runs)
        {
            Assert.True(run.Succeeded, $"{run.Notebook}: {run.Error}");
            AssertNoErrorOutputs(run.OutputNotebook);
            Assert.Empty(JsonSchemaValidator.Load(Fixture("nbformat.v4.5.schema.json")).Validate(JsonNode.Parse(File.ReadAllText(run.OutputNotebook))!));
        }
        // Notebook 01's own results: both frontends on the same 10 ms hop, the BAT frontend min-max scaled.
        var dir = Path.Combine(bat.Results, "01-frontend");
        var kaldi = Csv.ReadMatrix(Path.Combine(dir, "kaldi-fbank.csv"));
        var batFrontend = Csv.ReadMatrix(Path.Combine(dir, "bat-frontend.csv"));
        Assert.Equal(128, kaldi.GetLength(1));
        Assert.InRange(batFrontend.GetLength(0) - kaldi.GetLength(0), 0, 3);
        var rows = ResultsTable.Read(Path.Combine(dir, "results.csv"));
        Assert.Equal(8, rows.Count);
        Assert.Equal(1.0, rows.Single(r => r.Model == "bat" && r.Metric == "dynamic_range").Value, 6);
        // Every chart output carries the plotly figure as JSON.
        var charts = Outputs(bat.Runs[0].OutputNotebook).Count(o => o["data"]?[PlotlyFigure.MimeType] is JsonObject);
        Assert.Equal(3, charts);
    }

    [Fact]
    public void Jupyter_runs_all_four_on_the_dotnet_kernel_and_writes_the_same_result_rows()
    {
        Assert.True(File.Exists(Python) && Run(Python, ["-c", "import nbclient, nbformat, jupyter_client"], RepoRoot()).Code == 0,
            "Jupyter's client is missing: ./test.sh installs python3-nbclient python3-jupyter-client jupyter-nbconvert with apt-get");
        Assert.All(bat.Runs, r => Assert.True(r.Succeeded, r.Error));
        var dir = TempDir();
        var jupyterPath = Path.Combine(dir, "jupyter");
        // `bat kernel install` (dotnet interactive jupyter install), into a private kernels folder instead of the user's.
        var install = RunBat(RepoRoot(), "kernel", "install", "--path", Path.Combine(jupyterPath, "kernels"));
        Assert.True(install.ExitCode == 0, install.StdErr);
        Assert.Contains("\"display_name\": \".NET (C#)\"", File.ReadAllText(Path.Combine(jupyterPath, "kernels", ".net-csharp", "kernel.json")));
        var results = bat.SeedResults(dir);
        foreach (var name in Names)
        {
            var executed = Path.Combine(dir, name + ".ipynb");
            var args = new List<string> { Path.Combine(RepoRoot(), "tests", "jupyter", "execute_notebook.py"), Path.Combine(NotebooksDir, name + ".ipynb"), executed };
            args.AddRange(Parameters(name, results).Select(p => $"{p.Key}={p.Value}"));
            var run = Run(Python, args, NotebooksDir, ("JUPYTER_PATH", jupyterPath));
            Assert.True(run.Code == 0, $"{name} through Jupyter: {run.Output}");
            AssertNoErrorOutputs(executed);
        }
        AssertSameResultRows(bat.Results, results);
    }

    [Fact]
    public void Dotnet_repl_runs_all_four()
    {
        Assert.All(bat.Runs, r => Assert.True(r.Succeeded, r.Error));
        var dir = TempDir();
        var results = bat.SeedResults(dir);
        foreach (var name in Names)
        {
            // dotnet-repl has no parameters: it runs a copy with the injected-parameters cell, in the notebooks' folder.
            var injected = Path.Combine(dir, name + ".in.ipynb");
            var inject = new List<string> { Path.Combine(RepoRoot(), "tests", "jupyter", "execute_notebook.py"), Path.Combine(NotebooksDir, name + ".ipynb"), injected, "--inject-only" };
            inject.AddRange(Parameters(name, results).Select(p => $"{p.Key}={p.Value}"));
            Assert.Equal(0, Run(Python, inject, RepoRoot()).Code);
            var executed = Path.Combine(dir, name + ".ipynb");
            var run = Run("dotnet", ["tool", "run", "dotnet-repl", "--", "--run", injected, "--exit-after-run",
                "--output-path", executed, "--working-dir", NotebooksDir], NotebooksDir);
            Assert.True(run.Code == 0, $"{name} through dotnet-repl: exit {run.Code}: {run.Output}");
            AssertNoErrorOutputs(executed);
        }
        // The notebooks did their work in dotnet-repl too: each probing notebook wrote its results.
        foreach (var nb in new[] { "01-frontend", "03-cgp-ablation", "04-layerwise" })
            Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(results, nb), "*.csv", SearchOption.AllDirectories));
    }

    static List<JsonObject> Outputs(string notebook) =>
        ((JsonArray)JsonNode.Parse(File.ReadAllText(notebook))!["cells"]!)
        .SelectMany(c => c!["outputs"] as JsonArray ?? []).OfType<JsonObject>().ToList();

    static void AssertNoErrorOutputs(string notebook)
    {
        var errors = Outputs(notebook).Where(o => o["output_type"]!.GetValue<string>() == "error")
            .Select(o => $"{o["ename"]}: {o["evalue"]}").ToList();
        Assert.True(errors.Count == 0, $"{notebook}: {string.Join("; ", errors)}");
        Assert.True(Outputs(notebook).Count > 0, $"{notebook}: no outputs at all");
    }

    /// <summary>
    /// Every results CSV in the shared schema under 01, 03 and 04: the same rows (all columns but the commit) in
    /// both runs. Timing metrics (seconds) are left out: they measure the machine, not the method.
    /// </summary>
    static void AssertSameResultRows(string expectedRoot, string actualRoot)
    {
        int compared = 0;
        foreach (var nb in new[] { "01-frontend", "03-cgp-ablation", "04-layerwise" })
            foreach (var file in Directory.EnumerateFiles(Path.Combine(expectedRoot, nb), "*.csv", SearchOption.AllDirectories))
            {
                if (!File.ReadLines(file).First().StartsWith("experiment,dataset,model,probe,k,layer,metric,value", StringComparison.Ordinal)) continue;
                var other = Path.Combine(actualRoot, Path.GetRelativePath(expectedRoot, file));
                Assert.True(File.Exists(other), $"{other} was not written");
                static List<string> Rows(string path) => ResultsTable.Read(path)
                    .Where(r => !r.Metric.Contains("second", StringComparison.OrdinalIgnoreCase))
                    .Select(r => string.Join(",", r.Experiment, r.Dataset, r.Model, r.Probe, r.K, r.Layer, r.Metric,
                        r.Value.ToString("R", CultureInfo.InvariantCulture), r.Seed, r.Preset)).ToList();
                Assert.Equal(Rows(file), Rows(other));
                compared++;
            }
        Assert.True(compared >= 3, $"only {compared} results files compared");
    }

    static (int Code, string Output) Run(string program, IEnumerable<string> args, string cwd, params (string Name, string Value)[] env)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (n, v) in env) psi.Environment[n] = v;
        psi.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(30)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(" ", args)} did not finish in 30 min");
        }
        var text = stdout.Result + stderr.Result;
        return (process.ExitCode, text.Length > 4000 ? text[^4000..] : text);
    }

    static void CopyTree(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
    }
}
