using Bat.Experiments;
using Bat.Notebooks;
using Bat.Reporting;
using static Bat.Tests.Runner.RunnerTestKit;

namespace Bat.Tests.Runner;

/// <summary>
/// `bat reproduce` orchestration on four small stand-in notebooks with the real notebooks' names and parameters:
/// order, skip-when-done, resume after a failure, and the report's headline table beside the paper's numbers.
/// </summary>
public class ReproductionTests
{
    /// <summary>Writes four notebooks; each appends its name to a log file; 03 writes a Table 5 results CSV.</summary>
    static string MakeNotebooks(string failIn = "", string nativeFailOnceIn = "")
    {
        var dir = TempDir();
        foreach (var (name, _) in Reproduction.Notebooks)
        {
            var body = $"System.IO.File.AppendAllText(System.IO.Path.Combine(OutDir, \"log.txt\"), \"{name} \" + Preset + \"\\n\");";
            if (name == "02-pretrain") body += "\nSystem.IO.File.WriteAllText(System.IO.Path.Combine(OutDir, \"data.txt\"), Data);";
            if (name == failIn) body += "\nthrow new InvalidOperationException(\"deliberate failure\");";
            if (name == nativeFailOnceIn)
                body += "\nvar flag = System.IO.Path.Combine(OutDir, \"failed-once\");" +
                        "\nif (!System.IO.File.Exists(flag)) { System.IO.File.WriteAllText(flag, \"\"); " +
                        "throw new System.Runtime.InteropServices.ExternalException(\"false INTERNAL ASSERT FAILED at Scalar.h\"); }";
            if (name == "03-cgp-ablation")
                body += "\nBat.Reporting.ResultsTable.Write(System.IO.Path.Combine(OutDir, \"03-cgp-ablation\", \"results.csv\"), new[] {" +
                        "new Bat.Reporting.ResultRow(\"03-cgp-ablation/table5\", \"synth\", \"bat\", \"cgp\", 64, null, \"map\", 61.5, 1, Preset, \"abc\")," +
                        "new Bat.Reporting.ResultRow(\"03-cgp-ablation/table5\", \"synth\", \"bat\", \"cgp\", 64, null, \"map\", 62.5, 2, Preset, \"abc\")," +
                        "new Bat.Reporting.ResultRow(\"03-cgp-ablation/table5\", \"synth\", \"bat\", \"lp\", null, null, \"map\", 40.25, 1, Preset, \"abc\")," +
                        "new Bat.Reporting.ResultRow(\"03-cgp-ablation/table5\", \"words\", \"bat\", \"cgp\", 64, null, \"accuracy\", 71.25, 1, Preset, \"abc\")," +
                        "new Bat.Reporting.ResultRow(\"03-cgp-ablation/table5\", \"words\", \"bat\", \"cgp\", 64, null, \"map\", 12.125, 1, Preset, \"abc\")," +
                        "new Bat.Reporting.ResultRow(\"03-cgp-ablation/k-sweep\", \"words\", \"kws\", \"cgp\", 4, null, \"accuracy\", 77.5, 1, Preset, \"abc\")," +
                        "new Bat.Reporting.ResultRow(\"03-cgp-ablation/k-sweep\", \"words\", \"kws\", \"cgp\", 4, null, \"map\", 12.375, 1, Preset, \"abc\")," +
                        "new Bat.Reporting.ResultRow(\"03-cgp-ablation/k-sweep\", \"synth\", \"bat\", \"cgp\", 4, null, \"map\", 50.5, 1, Preset, \"abc\")," +
                        "new Bat.Reporting.ResultRow(\"03-cgp-ablation/k-sweep\", \"synth\", \"bat\", \"cgp\", 16, null, \"map\", 55.75, 1, Preset, \"abc\") });";
            if (name == "04-layerwise")
                body += "\nBat.Reporting.ResultsTable.Write(System.IO.Path.Combine(OutDir, \"04-layerwise\", \"layerwise.csv\"), new[] {" +
                        string.Join(",", new[] { 10.0, 30.0, 20.0 }.Select((v, l) =>
                            $"new Bat.Reporting.ResultRow(\"04-layerwise\", \"synth\", \"eat\", \"layer-lp\", null, {l}, \"map\", {v}, 1, Preset, \"abc\")")) + "," +
                        string.Join(",", new[] { 0.2, 0.3, 0.5 }.Select((v, l) =>
                            $"new Bat.Reporting.ResultRow(\"04-layerwise\", \"synth\", \"eat\", \"cgp\", 64, {l}, \"gate\", {v}, 1, Preset, \"abc\")")) + "," +
                        // A single-label task: accuracy peaks at block 2, mAP at block 1; the report must use accuracy only.
                        string.Join(",", new[] { ("accuracy", 0, 50.0), ("accuracy", 1, 60.0), ("map", 0, 90.0), ("map", 1, 10.0) }.Select(x =>
                            $"new Bat.Reporting.ResultRow(\"04-layerwise\", \"words\", \"kws\", \"layer-lp\", null, {x.Item2}, \"{x.Item1}\", {x.Item3}, 1, Preset, \"abc\")")) + " });";
            File.WriteAllText(Path.Combine(dir, name + ".ipynb"), Notebook(
                ("code", $"#r \"{Path.Combine(AppContext.BaseDirectory, "Bat.Core.dll")}\"", null),   // the kernel needs the library referenced
                ("code", "string Preset = \"tiny\";\nstring OutDir = \"../results\";\nstring Data = \"synth\";", ["parameters"]),
                ("code", body, null)));
        }
        return dir;
    }

    static ReproduceOptions Options(string notebooks, string outDir, bool force = false) =>
        new() { Preset = "smoke", OutDir = outDir, NotebooksDir = notebooks, Force = force };

    [Fact]
    public void Runs_all_four_in_order_then_skips_them_until_forced()
    {
        var notebooks = MakeNotebooks();
        var outDir = TempDir();
        var log = new StringWriter();
        var first = Reproduction.Run(Options(notebooks, outDir), log);
        Assert.True(first.Succeeded, first.Error);
        var expected = Reproduction.Notebooks.Select(n => $"{n.Name} smoke").ToArray();
        Assert.Equal(expected, File.ReadAllLines(Path.Combine(outDir, "log.txt")));
        foreach (var (name, _) in Reproduction.Notebooks)
        {
            Assert.True(File.Exists(Path.Combine(outDir, "notebooks", name + ".ipynb")));
            Assert.True(File.Exists(Path.Combine(outDir, "notebooks", name + ".html")));
        }

        var second = Reproduction.Run(Options(notebooks, outDir), log);
        Assert.True(second.Succeeded);
        Assert.Equal(expected, File.ReadAllLines(Path.Combine(outDir, "log.txt"))); // nothing ran again
        Assert.Contains("skipped", log.ToString());

        Reproduction.Run(Options(notebooks, outDir, force: true), TextWriter.Null);
        Assert.Equal(8, File.ReadAllLines(Path.Combine(outDir, "log.txt")).Length);
    }

    [Fact]
    public void A_failure_names_the_notebook_keeps_earlier_work_and_a_rerun_resumes_there()
    {
        var outDir = TempDir();
        var failing = MakeNotebooks(failIn: "03-cgp-ablation");
        var log = new StringWriter();
        var result = Reproduction.Run(Options(failing, outDir), log);
        Assert.False(result.Succeeded);
        Assert.Equal("03-cgp-ablation", result.FailedNotebook);
        Assert.Contains("deliberate failure", result.Error);
        Assert.Contains("03-cgp-ablation: FAILED", log.ToString());
        Assert.Equal(["01-frontend smoke", "02-pretrain smoke", "03-cgp-ablation smoke"], File.ReadAllLines(Path.Combine(outDir, "log.txt")));
        Assert.Contains("failed", File.ReadAllText(result.ReportPath));

        // Fixed notebooks: the rerun starts at 03; 01 and 02 are not run again.
        var fixedNotebooks = MakeNotebooks();
        var rerun = Reproduction.Run(Options(fixedNotebooks, outDir), TextWriter.Null);
        Assert.True(rerun.Succeeded, rerun.Error);
        Assert.Equal(["01-frontend smoke", "02-pretrain smoke", "03-cgp-ablation smoke", "03-cgp-ablation smoke", "04-layerwise smoke"],
            File.ReadAllLines(Path.Combine(outDir, "log.txt")));
    }

    [Fact]
    public void A_native_libtorch_error_is_retried_once_other_errors_are_not()
    {
        var outDir = TempDir();
        var log = new StringWriter();
        var result = Reproduction.Run(Options(MakeNotebooks(nativeFailOnceIn: "02-pretrain"), outDir), log);
        Assert.True(result.Succeeded, result.Error);
        Assert.Contains("02-pretrain: native libtorch error", log.ToString());
        Assert.Equal(["01-frontend smoke", "02-pretrain smoke", "02-pretrain smoke", "03-cgp-ablation smoke", "04-layerwise smoke"],
            File.ReadAllLines(Path.Combine(outDir, "log.txt")));

        var noRetry = TempDir();
        var failed = Reproduction.Run(Options(MakeNotebooks(nativeFailOnceIn: "02-pretrain"), noRetry) with { NativeRetries = 0 }, TextWriter.Null);
        Assert.False(failed.Succeeded);
        Assert.Equal("02-pretrain", failed.FailedNotebook);
    }

    [Fact]
    public void The_report_puts_our_mean_over_seeds_beside_the_papers_number()
    {
        var outDir = TempDir();
        var result = Reproduction.Run(Options(MakeNotebooks(), outDir), TextWriter.Null);
        var html = File.ReadAllText(result.ReportPath);
        Assert.Contains("62.00", html);  // mean of the two CGP seeds 61.5 and 62.5
        Assert.Contains("40.25", html);  // LP
        Assert.Contains(PaperResults.Lookup("BAT", "AS-20k", "cgp")!.Value.ToString("F2", System.Globalization.CultureInfo.InvariantCulture), html); // 37.70
        Assert.Contains("paper (AS-20k", html);
        Assert.Contains("71.25", html);          // a single-label task's headline is its accuracy
        Assert.DoesNotContain("12.13", html);    // not its mAP
        Assert.Contains("77.50", html);          // the same in Figure 2
        Assert.DoesNotContain("12.38", html);
        Assert.Contains("2 / 2 (60.00)", html);  // and in Figure 4: the best block by accuracy, not by a mix with mAP
        Assert.Contains("03-cgp-ablation/results.csv", html);
        Assert.Contains("1, 2", html); // seeds found in the results
        Assert.Contains("K=4", html);    // Figure 2: one column per K
        Assert.Contains("55.75", html);
        Assert.Contains("2 / 3 (30.00)", html); // Figure 4: the best block's LP, 1-based
        Assert.Contains("3 / 3 (0.50)", html);  // and the largest gate
    }

    [Fact]
    public void A_folder_of_manifests_reaches_the_notebooks_as_an_absolute_path()
    {
        var outDir = TempDir();
        var dataDir = TempDir();
        Bat.Data.Synth.SyntheticBenchmark.Ensure(dataDir, clips: 48, seed: 0, seconds: 1);
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), dataDir);
        var result = Reproduction.Run(Options(MakeNotebooks(), outDir) with { Data = relative }, TextWriter.Null);
        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(Path.GetFullPath(dataDir), File.ReadAllText(Path.Combine(outDir, "data.txt")));

        var synth = TempDir();
        Assert.True(Reproduction.Run(Options(MakeNotebooks(), synth), TextWriter.Null).Succeeded);
        Assert.Equal("synth", File.ReadAllText(Path.Combine(synth, "data.txt")));
    }

    [Fact]
    public void A_bad_folder_of_manifests_fails_before_any_notebook_runs()
    {
        var outDir = TempDir();
        var empty = TempDir();
        var e = Assert.Throws<BatException>(() => Reproduction.Run(Options(MakeNotebooks(), outDir) with { Data = empty }, TextWriter.Null));
        Assert.Contains("no probing task", e.Message);
        Assert.False(File.Exists(Path.Combine(outDir, "log.txt")));
    }

    [Fact]
    public void An_unwritable_output_folder_fails_before_any_notebook_runs()
    {
        var notebooks = MakeNotebooks();
        var file = Path.GetTempFileName();
        var e = Assert.Throws<BatException>(() => Reproduction.Run(Options(notebooks, Path.Combine(file, "results")), TextWriter.Null));
        Assert.Contains("cannot create the output folder", e.Message);
        File.Delete(file);
    }
}
