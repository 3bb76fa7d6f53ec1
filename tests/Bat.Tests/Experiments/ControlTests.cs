using Bat.Data.Synth;
using Bat.Experiments;
using Bat.Model;
using Bat.Notebooks;
using Bat.Probing;
using Bat.Reporting;
using Bat.Training;

namespace Bat.Tests.Experiments;

/// <summary>The untrained control: computed (not copied), probed beside the pre-trained models, and read against.</summary>
public class ControlTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("batcontrol-").FullName;
    public void Dispose() => Directory.Delete(root, recursive: true);

    static ResultRow Row(string dataset, string model, string probe, string metric, double value, int seed = 0, string experiment = "03-cgp-ablation/table5") =>
        new(experiment, dataset, model, probe, null, null, metric, value, seed, "smoke", "x");

    [Fact]
    public void EveryVariantIsReadAgainstTheUntrainedEncoderOfItsOwnShape()
    {
        Assert.Equal("untrained-eat", PretrainVariant.ControlOf("eat"));
        Assert.Equal("untrained-nogate", PretrainVariant.ControlOf("bat-eob"));
        Assert.Equal("untrained", PretrainVariant.ControlOf("bat"));
        Assert.Equal("untrained", PretrainVariant.ControlOf("my-own-checkpoint"));
        foreach (var v in PretrainVariant.Ablation)
        {
            var control = PretrainVariant.Named(PretrainVariant.ControlOf(v.Name));
            Assert.True(control.IsControl);
            Assert.Equal((v.Frontend, v.Gated), (control.Frontend, control.Gated));
            Assert.Equal(0, control.Config(Preset.Smoke, new Bat.Frontends.FrontendConfig(control.Frontend, 64, 512)).Steps);
        }
    }

    [Fact]
    public void MarginsAreScoreMinusTheControlsWithTwoStandardErrorsOfNoise()
    {
        var rows = new[]
        {
            Row("birds", "untrained", "lp", "accuracy", 50), Row("birds", "untrained", "lp", "support", 100),
            Row("birds", "bat", "lp", "accuracy", 62), Row("birds", "bat", "lp", "map", 99),   // single-label: accuracy is the main metric
            Row("birds", "eat", "lp", "accuracy", 55), Row("birds", "untrained-eat", "lp", "accuracy", 53),    // eat is read against its own shape
            Row("birds", "bat", "cgp", "accuracy", 70),                                            // no control row for cgp: left out
        };
        var margins = ControlMargins.From(rows);
        Assert.Equal(2, margins.Count);
        var bat = margins.Single(m => m.Model == "bat");
        Assert.Equal(12, bat.Margin, 9);
        Assert.Equal(10, bat.Noise, 9);                  // 2 sqrt(50 * 50 / 100) = 10 points
        Assert.False(bat.WithinNoise);
        Assert.Equal("+12.0 (beyond noise ±10.0)", bat.Verdict);
        var eat = margins.Single(m => m.Model == "eat");
        Assert.Equal(2, eat.Margin, 9);                  // 55 - 53 (untrained-eat), not 55 - 50 (BAT's shape)
        Assert.True(eat.WithinNoise);
    }

    [Fact]
    public void MarginsOverSeveralSeedsAverageThemAndCountTheirSpreadInTheNoise()
    {
        var rows = new[]
        {
            Row("birds", "untrained", "lp", "accuracy", 48, seed: 0), Row("birds", "untrained", "lp", "accuracy", 52, seed: 1),
            Row("birds", "untrained", "lp", "accuracy", 48, seed: 0, experiment: "02-pretrain/ablation"),   // the same seed twice: one score
            Row("birds", "untrained", "lp", "support", 100),
            Row("birds", "bat", "lp", "accuracy", 60, seed: 0), Row("birds", "bat", "lp", "accuracy", 64, seed: 1),
            Row("birds", "eat", "lp", "accuracy", 60, seed: 0), Row("birds", "untrained-eat", "lp", "accuracy", 50, seed: 0),
        };
        var margins = ControlMargins.From(rows);
        var bat = margins.Single(m => m.Model == "bat");
        Assert.Equal(62, bat.Score, 9);
        Assert.Equal(50, bat.Control, 9);
        Assert.Equal(2, bat.Seeds);
        // test clips: 2 sqrt(50 * 50 / 100) = 10; seeds: sample variances 8 and 8 over 2 seeds each, 2 sqrt(8/2 + 8/2) = 5.657
        Assert.Equal(Math.Sqrt(100 + 32), bat.Noise, 9);
        Assert.Equal("+12.0 (beyond noise ±11.5, 2 seeds)", bat.Verdict);
        var eat = margins.Single(m => m.Model == "eat");   // one seed a side: the test clips' band alone
        Assert.Equal(1, eat.Seeds);
        Assert.Equal(10, eat.Noise, 9);
    }

    [Fact]
    public void MacroF1MarginsReadOnlySingleLabelTasksAgainstTheSameControl()
    {
        var rows = new[]
        {
            // keywords: single-label, imbalanced. The control's accuracy is the majority class's share; its macro F1 is low.
            Row("keywords", "untrained", "lp", "accuracy", 68.75), Row("keywords", "untrained", "lp", "f1_macro", 15),
            Row("keywords", "untrained", "lp", "support", 100),
            Row("keywords", "bat", "lp", "accuracy", 70), Row("keywords", "bat", "lp", "f1_macro", 40, seed: 0),
            Row("keywords", "bat", "lp", "f1_macro", 50, seed: 1),
            // drums: multi-label, its f1_macro is not read (mAP is its metric, and F1 at a fixed threshold is another question)
            Row("drums", "untrained", "lp", "map", 20), Row("drums", "untrained", "lp", "f1_macro", 5),
            Row("drums", "bat", "lp", "map", 30), Row("drums", "bat", "lp", "f1_macro", 25),
        };
        var accuracy = ControlMargins.From(rows).Single(m => m.Dataset == "keywords");
        Assert.Equal(1.25, accuracy.Margin, 9);
        var f1 = Assert.Single(ControlMargins.MacroF1(rows));
        Assert.Equal(("keywords", "bat", "lp", "f1_macro"), (f1.Dataset, f1.Model, f1.Probe, f1.Metric));
        Assert.Equal(45, f1.Score, 9);                        // mean of the two seeds
        Assert.Equal(30, f1.Margin, 9);                       // 45 - 15
        Assert.Equal(2 * Math.Sqrt(15 * 85 / 100.0), f1.Noise, 9);   // one control seed: the test clips' band alone, 7.14
        Assert.False(f1.WithinNoise);
    }

    [Fact]
    public void LearningBenchmarkScoresAreTheMeanOverProbeSeeds()
    {
        var cells = LearningBenchmark.MeanOverSeeds(
        [
            new("t", "bat", "cgp", "accuracy", 20, 10, 3), new("t", "bat", "cgp", "accuracy", 32, 10, 5),
            new("t", "bat", "lp", "accuracy", 9, 4, 1),
        ]);
        Assert.Equal(2, cells.Count);
        var cgp = cells.Single(c => c.Probe == "cgp");
        Assert.Equal(26, cgp.Score, 9);
        Assert.Equal(8, cgp.TrainSeconds, 9);
        Assert.Equal(9, cells.Single(c => c.Probe == "lp").Score, 9);
    }

    [Fact]
    public void TargetsCompareEachVariantWithTheControlLpAndTheBaseline()
    {
        Table5Cell C(string model, string probe, double score) => new("t", model, probe, "map", score, 0, 0);
        var cells = new[]
        {
            C("untrained", "lp", 20), C("untrained", "cgp", 40), C("baseline", LogMelBaseline.Name, 44),
            C("bat", "lp", 36), C("bat", "cgp", 44.5), C("bat", "finetune", 45),
        };
        var checks = LearningBenchmark.Check(cells, ["bat"]).ToDictionary(c => c.Target);
        Assert.True(checks["LP >= LP(untrained) + 15"].Met);          // 36 >= 35
        Assert.False(checks["CGP >= CGP(untrained) + 5"].Met);        // 44.5 < 45
        Assert.False(checks["fine-tune >= LP + 10"].Met);             // 45 < 46
        Assert.True(checks["CGP > log-mel baseline"].Met);            // 44.5 > 44
        Assert.Equal(4, checks.Count);
    }

    [Fact]
    public void TheControlIsTrainedProbedChartedAndReportedAtSmoke()
    {
        var dataDir = Path.Combine(root, "data");
        SyntheticBenchmark.Ensure(dataDir, clips: 48, seed: 3, seconds: 2);
        var data = ExperimentData.FromFolder(dataDir);
        var outDir = Path.Combine(root, "results");
        var layout = new OutputLayout(outDir);

        var outcomes = PretrainingAblation.Run(Preset.Smoke, outDir, data, ["untrained", "bat"]);
        Assert.Equal(["untrained", "bat"], outcomes.Select(o => o.Variant.Name));
        var controlFile = Assert.Single(Checkpoint.All(layout.PretrainRun("untrained")));
        Assert.EndsWith("step-000000.pt", controlFile);

        // Computed, not copied: the control's weights are a fresh encoder of BAT's config and seed, and not bat's.
        var control = CheckpointSource.Resolve(controlFile).LoadEncoder();
        var controlConfig = Bat.Pretraining.PretrainRun.SavedConfig(layout.PretrainRun("untrained"))!;
        var trained = CheckpointSource.Resolve(layout.PretrainRun("bat")).LoadEncoder();
        Assert.Equal(0, controlConfig.Steps);
        Assert.True(controlConfig.Encoder.Gated);
        Devices.Seed(controlConfig.Seed);
        using var fresh = new Encoder(controlConfig.Encoder);
        var freshWeights = fresh.state_dict();
        foreach (var (name, value) in control.state_dict())
            Assert.True(value.equal(freshWeights[name]).all().item<bool>(), $"{name} differs from a fresh encoder of the same seed");
        Assert.Contains(trained.state_dict(), kv => !kv.Value.equal(control.state_dict()[kv.Key]).all().item<bool>());
        control.Dispose();
        trained.Dispose();

        var table = ProbeComparison.CompareProbes(Preset.Smoke, outDir, data, ["untrained", "bat"], probes: ["lp"]);
        var primary = table.First().Dataset;
        Assert.Contains(table, c => c.Model == "untrained" && c.Dataset == primary);
        var margins = ProbeComparison.Margins(outDir);
        var margin = margins.First(m => m.Model == "bat" && m.Dataset == primary);
        double batScore = table.Single(c => c.Model == "bat" && c.Dataset == primary).Score;
        double controlScore = table.Single(c => c.Model == "untrained" && c.Dataset == primary).Score;
        Assert.Equal(batScore - controlScore, margin.Margin, 9);
        Assert.True(margin.Noise > 0 && !double.IsNaN(margin.Noise));

        // The EMA teachers of the same runs: the pre-trained run's teacher gets its own caches and says so in
        // recipes.json; the control reads its student (its teacher at step 0), so its score is the one above.
        var teachers = ProbeComparison.CompareProbes(Preset.Smoke, outDir, data, ["untrained", "bat"], probes: ["lp"], table: "teachers", weights: EncoderWeights.Teacher);
        Assert.Equal(controlScore, teachers.Single(c => c.Model == "untrained" && c.Dataset == primary).Score);
        var batRun = CheckpointSource.Resolve(layout.PretrainRun("bat"), EncoderWeights.Teacher);
        Assert.EndsWith("-teacher", layout.Embeddings("bat", data.PrimaryTask, batRun));
        Assert.True(Directory.Exists(layout.Embeddings("bat", data.PrimaryTask, batRun)));
        var recipes = File.ReadAllText(Path.Combine(ProbeComparison.ResultsDir(outDir), ProbeComparison.RecipesFile));
        using (var plans = System.Text.Json.JsonDocument.Parse(recipes))
            foreach (var plan in plans.RootElement.EnumerateArray())
                Assert.Equal(plan.GetProperty("model").GetString() == "bat",
                    plan.GetProperty("recipe").TryGetProperty("encoder weights", out var w) && w.GetString() == "teacher");

        var sweep = ProbeComparison.SweepK(Preset.Smoke, outDir, data, ["untrained", "bat"], [2]);
        Assert.Equal(["untrained", "bat"], sweep.Select(p => p.Model));

        var curve = PretrainingAblation.LearningCurve(Preset.Smoke, outDir, data, ["bat"]);
        Assert.Equal((0L, "untrained"), (curve[0].Step, curve[0].Variant));
        Assert.Equal(Preset.Smoke.Pretraining.Steps, curve[^1].Step);
        Assert.True(File.Exists(Path.Combine(outDir, "pretrain", "learning-curve.csv")));

        var html = ReproductionReport.Render(outDir, new ReproduceOptions { Preset = "smoke", Data = dataDir }, null, null, TimeSpan.Zero);
        Assert.Contains("Margin over the untrained control", html);
        Assert.Contains("macro-F1 margin (single-label)", html);
        Assert.Contains(margin.Verdict.Replace("±", "&#177;"), html);
    }

    /// <summary>`bat bench learn` at the smoke preset with `bat` on a small synthetic benchmark, into root/name.</summary>
    (string OutDir, LearningBenchmark.Result Result) RunLearningBenchmark(string name, int seed, int probeSeeds = 1, int pretrainSeeds = 1)
    {
        var dataDir = Path.Combine(root, name + "-data");
        SyntheticBenchmark.Ensure(dataDir, clips: 48, seed: 5, seconds: 2);
        var outDir = Path.Combine(root, name);
        return (outDir, LearningBenchmark.Run(Preset.Smoke, outDir, ExperimentData.FromFolder(dataDir), ["bat"], seed, probeSeeds, pretrainSeeds: pretrainSeeds));
    }

    [Fact]
    public void TheLearningBenchmarkProbesEveryEncoderWithEachProbeSeedAndReadsTheirMean()
    {
        var (outDir, result) = RunLearningBenchmark("learn", seed: 0, probeSeeds: 2);

        var rows = ResultsTable.Read(Path.Combine(ProbeComparison.ResultsDir(outDir), LearningBenchmark.Table + ".csv"));
        foreach (var cell in result.Cells)
        {
            // The table keeps each seed's score; the benchmark's cell is their mean.
            var perSeed = rows.Where(r => r.Dataset == cell.Dataset && r.Model == cell.Model && r.Probe == cell.Probe && r.Metric == cell.Metric && r.Layer is null).ToList();
            Assert.Equal([0, 1], perSeed.Select(r => r.Seed).Order());
            Assert.Equal(perSeed.Average(r => r.Value), cell.Score, 9);
        }
        Assert.Contains(result.Cells, c => c.Model == "untrained" && c.Probe == "cgp");
        var margins = result.Margins.Where(m => m.Model == "bat").ToList();
        Assert.Equal(LearningBenchmark.Probes.Length, margins.Count / margins.Select(m => m.Dataset).Distinct().Count());
        Assert.All(margins, m => Assert.Equal(2, m.Seeds));
        Assert.Contains(LearningBenchmark.Format(result), line => line.Contains("2 seeds"));

        // The single-label task is also read on macro F1: the mean of each seed's row, margins over the control.
        var single = rows.Where(r => r.Metric == "accuracy").Select(r => r.Dataset).Distinct().Single();
        Assert.All(result.MacroF1.Keys, k => Assert.Equal(single, k.Dataset));
        var batLp = rows.Where(r => r.Dataset == single && r.Model == "bat" && r.Probe == "lp" && r.Metric == "f1_macro" && r.Layer is null).ToList();
        Assert.Equal(2, batLp.Count);
        Assert.Equal(batLp.Average(r => r.Value), result.MacroF1[(single, "bat", "lp")], 9);
        var f1Margin = result.MacroF1Margins.Single(m => m.Model == "bat" && m.Probe == "lp");
        Assert.Equal(result.MacroF1[(single, "bat", "lp")] - result.MacroF1[(single, "untrained", "lp")], f1Margin.Margin, 9);
        var printed = LearningBenchmark.Format(result).ToList();
        Assert.Contains($"-- {single} (f1_macro, %: every class weighed alike)", printed);
        Assert.Contains(printed, line => line.StartsWith("bat ") && line.Contains(f1Margin.Verdict));
    }

    [Fact]
    public void WithPretrainingSeedsTheLearningBenchmarkReadsEachVariantAgainstTheControlOfItsOwnSeed()
    {
        var (outDir, result) = RunLearningBenchmark("learn-seeds", seed: 3, pretrainSeeds: 2);

        // Each pre-training seed has its own runs, the control's among them, trained with that seed and probed with the first seed.
        var perSeed = new Dictionary<int, IReadOnlyList<ResultRow>>();
        foreach (int pretrainSeed in new[] { 3, 4 })
        {
            var dir = LearningBenchmark.PretrainSeedDir(outDir, pretrainSeed);
            foreach (var model in new[] { "untrained", "bat" })
                Assert.Equal(pretrainSeed, Bat.Pretraining.PretrainRun.SavedConfig(new OutputLayout(dir).PretrainRun(model))!.Seed);
            perSeed[pretrainSeed] = ResultsTable.Read(Path.Combine(ProbeComparison.ResultsDir(dir), LearningBenchmark.Table + ".csv"));
            Assert.All(perSeed[pretrainSeed], r => Assert.Equal(3, r.Seed));
        }
        double Score(int pretrainSeed, string dataset, string model, string probe, string metric) =>
            perSeed[pretrainSeed].Single(r => r.Dataset == dataset && r.Model == model && r.Probe == probe && r.Metric == metric && r.Layer is null).Value;

        // OUT's table: one row per pre-training seed, its seed column the pre-training seed.
        var top = ResultsTable.Read(Path.Combine(ProbeComparison.ResultsDir(outDir), LearningBenchmark.Table + ".csv"));
        Assert.Equal([3, 4], top.Select(r => r.Seed).Distinct().Order());
        foreach (var cell in result.Cells)
            Assert.Equal((Score(3, cell.Dataset, cell.Model, cell.Probe, cell.Metric) + Score(4, cell.Dataset, cell.Model, cell.Probe, cell.Metric)) / 2, cell.Score, 9);

        // The margin pairs the two sides over the pre-training seeds, and its band counts their spread.
        var margins = result.Margins.Where(m => m.Model == "bat").ToList();
        Assert.NotEmpty(margins);
        foreach (var m in margins)
        {
            Assert.Equal(2, m.Seeds);
            double bat3 = Score(3, m.Dataset, "bat", m.Probe, m.Metric), bat4 = Score(4, m.Dataset, "bat", m.Probe, m.Metric);
            double control3 = Score(3, m.Dataset, "untrained", m.Probe, m.Metric), control4 = Score(4, m.Dataset, "untrained", m.Probe, m.Metric);
            Assert.Equal((bat3 + bat4) / 2 - (control3 + control4) / 2, m.Margin, 9);
            // Two seeds a side: 2 SE of the difference of the means is sqrt((bat3 - bat4)^2 + (control3 - control4)^2),
            // in quadrature with 2 SE of a proportion at the control's mean score on the test clips.
            double seedSpread = Math.Sqrt((bat3 - bat4) * (bat3 - bat4) + (control3 - control4) * (control3 - control4));
            double p = Math.Clamp((control3 + control4) / 2, 0, 100);
            double n = top.Where(r => r.Dataset == m.Dataset && r.Probe == m.Probe && r.Metric == "support").Max(r => r.Value);
            double testClips = 2 * Math.Sqrt(p * (100 - p) / n);
            Assert.Equal(Math.Sqrt(testClips * testClips + seedSpread * seedSpread), m.Noise, 9);
        }
        Assert.Contains(LearningBenchmark.Format(result), line => line.StartsWith("bat ") && line.Contains("2 seeds"));
    }

    [Fact]
    public void TheLearningBenchmarkRefusesZeroPretrainingSeedsBeforeAnyWork()
    {
        var outDir = Path.Combine(root, "learn-zero-pretrain");
        var error = Assert.Throws<BatException>(() =>
            LearningBenchmark.Run(Preset.Smoke, outDir, new ExperimentData("test", "never-read.csv", ["never-read.csv"]), ["bat"], pretrainSeeds: 0));
        Assert.StartsWith("--pretrain-seeds: 0 pre-training seeds", error.Message);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void TheLearningBenchmarkRefusesZeroProbeSeedsBeforeAnyWork()
    {
        var outDir = Path.Combine(root, "learn-zero");
        var error = Assert.Throws<BatException>(() =>
            LearningBenchmark.Run(Preset.Smoke, outDir, new ExperimentData("test", "never-read.csv", ["never-read.csv"]), ["bat"], probeSeeds: 0));
        Assert.StartsWith("--probe-seeds: 0 probe seeds", error.Message);
        Assert.False(Directory.Exists(outDir));   // refused before pre-training wrote anything
    }
}
