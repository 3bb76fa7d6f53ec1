using Bat.Data;
using Bat.Data.Synth;
using Bat.Experiments;
using Bat.Pretraining;
using Bat.Reporting;

namespace Bat.Tests.Experiments;

/// <summary>
/// Notebooks 02-04's library calls on a folder of manifests (what `bat reproduce --data DIR` hands them), at
/// the smoke preset: pre-training on the primary task, Table 5 on every task, Figure 2 and the per-layer
/// profile on the primary task, and a refusal to reuse the run folders for other data.
/// </summary>
public class ManifestFolderExperimentTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("batfolder-").FullName;
    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Pretrain_probe_and_profile_run_on_every_task_of_a_folder()
    {
        // Two tasks in one folder: synth-multilabel (mAP) sorts before synth-singlelabel (accuracy).
        var dataDir = Path.Combine(root, "data");
        var made = SyntheticBenchmark.Ensure(dataDir, clips: 48, seed: 3, seconds: 2);
        var outDir = Path.Combine(root, "results");
        var data = ExperimentData.FromFolder(dataDir);
        Assert.Equal([made.MultiLabel, made.SingleLabel], data.ProbeManifests);
        string multi = Manifest.Load(made.MultiLabel).Task.Name, single = Manifest.Load(made.SingleLabel).Task.Name;

        var outcomes = PretrainingAblation.Run(Preset.Smoke, outDir, data, ["eat", "bat"]);
        foreach (var o in outcomes)
            Assert.Equal(Manifest.Fingerprint(made.MultiLabel), PretrainRun.SavedConfig(o.RunDir)!.TrainedOn);

        var table = ProbeComparison.CompareProbes(Preset.Smoke, outDir, data, ["eat", "bat"], probes: ["lp", "cgp"]);
        Assert.Equal(10, table.Count); // 2 tasks x 2 models x 2 probes, and the log-mel baseline once per task
        Assert.Equal(2, table.Count(c => c.Model == ProbeComparison.Baseline && c.Probe == Bat.Probing.LogMelBaseline.Name));
        Assert.All(table.Where(c => c.Dataset == multi), c => Assert.Equal("map", c.Metric));
        Assert.All(table.Where(c => c.Dataset == single), c => Assert.Equal("accuracy", c.Metric));
        Assert.All(table, c => Assert.InRange(c.Score, 0, 100));
        var rows = ResultsTable.Read(Path.Combine(ProbeComparison.ResultsDir(outDir), "table5.csv"));
        Assert.Equal([multi, single], rows.Select(r => r.Dataset).Distinct().Order(StringComparer.Ordinal));

        var sweep = ProbeComparison.SweepK(Preset.Smoke, outDir, data, ["bat"], [2, 4]);
        Assert.Equal([2, 4], sweep.Select(p => p.K));
        Assert.All(ResultsTable.Read(Path.Combine(ProbeComparison.ResultsDir(outDir), "k-sweep.csv")), r => Assert.Equal(multi, r.Dataset));

        var profile = LayerwiseAnalysis.Profiles(Preset.Smoke, outDir, data, ["bat"]).Single();
        Assert.Equal(4, profile.LinearProbeScores.Length);
        Assert.Equal(1.0, profile.GateWeights.Sum(), 4);
        var attention = LayerwiseAnalysis.Attention(outDir, data, "bat");
        Assert.Contains(attention.Clip, Manifest.Load(made.MultiLabel).Split("test").Select(e => e.Path)); // the primary task's test clip

        // The same output folder with the embedded benchmark would silently reuse encoders trained on other data.
        var synth = ExperimentData.Resolve(ExperimentData.Synth, outDir, Preset.Smoke);
        var e = Assert.Throws<BatException>(() => PretrainingAblation.Run(Preset.Smoke, outDir, synth, ["bat"]));
        Assert.Contains("was pre-trained on", e.Message);
        Assert.Contains(Path.Combine("pretrain", "bat"), e.Message);
    }

    [Fact]
    public void TheWideBenchmarkKeepsTheTrainingBudgetAndScoresOnEveryTestClip()
    {
        using var dir = new Bat.Tests.Data.TempDir();
        // 40 clips at seed 1 (the real one has 3000): 28 train, 6 valid, 6 test; keep 5 train and 2 valid.
        var wide = ExperimentData.EnsureWide(dir.Path, clips: 40, train: 5, validation: 2);
        var m = Manifest.Load(wide, checkAudio: true);
        Assert.Equal(ExperimentData.SynthWide, m.Task.Name);
        Assert.Equal(5, m.Split("train").Count);
        Assert.Equal(2, m.Split("valid").Count);
        var source = Manifest.Load(Path.Combine(Path.GetDirectoryName(wide)!, "synth-multilabel.csv"));
        Assert.Equal(source.Split("test").Select(e => e.Path), m.Split("test").Select(e => e.Path));
        Assert.Equal(source.Split("train").Take(5).Select(e => e.Path), m.Split("train").Select(e => e.Path));
        // Made once: a second call leaves the file as it is.
        var written = File.GetLastWriteTimeUtc(wide);
        Assert.Equal(wide, ExperimentData.EnsureWide(dir.Path, clips: 40, train: 5, validation: 2));
        Assert.Equal(written, File.GetLastWriteTimeUtc(wide));
        Assert.True(ExperimentData.IsGenerated(ExperimentData.SynthWide) && ExperimentData.IsGenerated("synth") && !ExperimentData.IsGenerated(dir.Path));
    }
}
