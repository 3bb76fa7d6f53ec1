using Bat.Data;
using Bat.Data.Synth;
using Bat.Tests.Audio;
using Bat.Tests.Probing;

namespace Bat.Tests.Cli;

/// <summary>`bat probe`: the recipes in its help, and --folds on a manifest without folds.</summary>
public class ProbeCommandTests
{
    [Fact]
    public void HelpListsEveryOfficialRecipeAndEveryPresetsScale()
    {
        var (code, output, _) = FrontendCommandTests.Bat("probe", "--help");
        Assert.Equal(0, code);
        var help = output.ReplaceLineEndings(" ");
        Assert.Contains("Esc50: probe 4000 steps x batch 48, warm-up 400, wd 0.2", help);
        Assert.Contains("SpeechCommands: probe 10000 steps x batch 256, warm-up 1000", help);
        Assert.Contains("AudioSet: probe 20000 steps x batch 48, warm-up 500", help);
        Assert.Contains("Dcase2016Task2: probe 4000 steps x batch 4, warm-up 400, wd 0.05", help);
        Assert.Contains("event-labelled (an events CSV named in the sidecar) -> DCASE 2016 task 2: frame-wise probes", help);
        Assert.Contains("AdamW (0.9, 0.95), drop path 0.1", help);
        Assert.Contains("--preset tiny: steps x 0.075 (probe)", help);
        Assert.Contains("--preset base: the official schedules", help);
        Assert.Contains("--folds", help);
    }

    [Fact]
    public void FoldsOnAManifestWithoutFoldsIsOneErrorNamingIt()
    {
        using var dir = new TempDir();
        var manifests = SyntheticBenchmark.Ensure(dir.File("synth"), clips: 12, seed: 0, seconds: 1);
        var run = ProbeExperimentTests.MakeRun(dir.File("runs"), "a", 0, Bat.Model.EncoderConfig.Tiny with { Dim = 48, Heads = 2, Depth = 2 });
        var (code, _, err) = FrontendCommandTests.Bat("probe", "--checkpoint", run, "--manifest", manifests.MultiLabel, "--folds", "--preset", "smoke");
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {manifests.MultiLabel}: --folds needs a fold", err);
    }

    [Fact]
    public void LearningRateAndMixupOverridesReachTheScheduleAndBadValuesAreRefusedBeforeAnyWork()
    {
        using var dir = new TempDir();
        var manifests = SyntheticBenchmark.Ensure(dir.File("synth"), clips: 12, seed: 0, seconds: 1);
        var run = ProbeExperimentTests.MakeRun(dir.File("runs"), "a", 0, Bat.Model.EncoderConfig.Tiny with { Dim = 48, Heads = 2, Depth = 2 });
        string[] common = ["probe", "--checkpoint", run, "--manifest", manifests.MultiLabel, "--preset", "smoke"];

        // A child process: the command prints its plan to the console, which the in-process runner does not capture.
        var (code, output, err) = Bat.Tests.Runner.RunnerTestKit.RunBat(dir.Path, [.. common, "--probe", "lp", "--steps", "4", "--lr", "0.0025"]);
        Assert.True(code == 0, err);
        Assert.Contains("schedule: 4 steps x batch 16, warm-up 1, lr 0.0025", output);

        var (fineCode, fineOutput, fineErr) = Bat.Tests.Runner.RunnerTestKit.RunBat(dir.Path,
            [.. common, "--probe", "finetune", "--steps", "2", "--mixup", "0.5", "--layer-decay", "0", "--drop-path", "0.2", "--augment", "true"]);
        Assert.True(fineCode == 0, fineErr);
        // The smoke preset fine-tunes without mixup, augmentation or drop path; each option puts its part back.
        Assert.Contains("mixup 0.5, layer decay 0, drop path 0.2, augmentation on", fineOutput);
        foreach (var (option, value) in new[] { ("--layer-decay", "0.5"), ("--drop-path", "0"), ("--augment", "false") })
        {
            var (frozenCode, _, frozenErr) = FrontendCommandTests.Bat([.. common, "--probe", "lp", option, value]);
            Assert.Equal(1, frozenCode);
            Assert.StartsWith($"error: {option}: applies to --probe finetune only", frozenErr);
        }
        var (decayCode, _, decayErr) = FrontendCommandTests.Bat([.. common, "--probe", "finetune", "--layer-decay", "1.5"]);
        Assert.Equal(1, decayCode);
        Assert.StartsWith("error: --layer-decay: must be from 0 to 1, got 1.5", decayErr);

        var (mixupCode, _, mixupErr) = FrontendCommandTests.Bat([.. common, "--probe", "lp", "--mixup", "0"]);
        Assert.Equal(1, mixupCode);
        Assert.StartsWith("error: --mixup: applies to --probe finetune only", mixupErr);
        var (chanceCode, _, chanceErr) = FrontendCommandTests.Bat([.. common, "--probe", "finetune", "--mixup", "1.5"]);
        Assert.Equal(1, chanceCode);
        Assert.StartsWith("error: --mixup: must be a chance from 0 to 1, got 1.5", chanceErr);
        var (lrCode, _, lrErr) = FrontendCommandTests.Bat([.. common, "--probe", "finetune", "--lr", "-1"]);
        Assert.Equal(1, lrCode);
        Assert.StartsWith("error: --lr: must be a positive number, got -1", lrErr);
    }

    [Fact]
    public void ProbeRunsFrameWiseCgpOnAnEventTaskAndAppendsItsEventScores()
    {
        using var dir = new TempDir();
        var synth = SyntheticBenchmark.Ensure(dir.File("synth"), clips: 16, seed: 4, seconds: 1);
        var sed = dir.File("synth/synth-sed.csv");
        var (made, _, madeErr) = FrontendCommandTests.Bat("data", "manifest", "events", "--manifest", synth.MultiLabel, "--out", sed);
        Assert.True(made == 0, madeErr);
        Assert.True(Manifest.Load(sed).Task.HasEvents);
        var run = ProbeExperimentTests.MakeRun(dir.File("runs"), "a", 0, Bat.Model.EncoderConfig.Tiny with { Dim = 48, Heads = 2, Depth = 2 });
        var results = dir.File("results.csv");
        var (code, _, err) = FrontendCommandTests.Bat("probe", "--checkpoint", run, "--manifest", sed, "--preset", "smoke",
            "--prototypes", "8", "--out", results);
        Assert.True(code == 0, err);
        var rows = Bat.Reporting.ResultsTable.Read(results);
        Assert.All(rows, r => Assert.Equal(("cgp-frame", "synth-sed"), (r.Probe, r.Dataset)));   // before the lp run below appends
        foreach (var metric in new[] { "onset_f1_micro", "onset_precision_micro", "onset_recall_micro", "map_micro", "f1_micro", "map_macro", "f1_macro" })
            Assert.Contains(rows, r => r.Metric == metric && r.K == 8);

        // A baseline runs frame-wise too (its own official schedule); a clip-only probe is refused before any work.
        var (lpCode, _, lpErr) = FrontendCommandTests.Bat("probe", "--checkpoint", run, "--manifest", sed, "--probe", "lp", "--preset", "smoke", "--out", results);
        Assert.True(lpCode == 0, lpErr);
        Assert.Contains(Bat.Reporting.ResultsTable.Read(results), r => r.Probe == "lp-frame" && r.Metric == "onset_f1_micro");
        var (layerCode, _, layerErr) = FrontendCommandTests.Bat("probe", "--checkpoint", run, "--manifest", sed, "--probe", "layer-lp", "--preset", "smoke");
        Assert.Equal(1, layerCode);
        Assert.StartsWith("error: --probe: 'layer-lp' on the sound event detection task synth-sed", layerErr);
    }

    [Fact]
    public void BaselineNeedsNoCheckpointReadsTheMelBinsAndAppendsItsRow()
    {
        using var dir = new TempDir();
        var synth = SyntheticBenchmark.Ensure(dir.File("synth"), clips: 12, seed: 0, seconds: 1);
        var results = dir.File("results.csv");
        // A child process: the command prints its run to the console, which the in-process runner does not capture.
        var (code, output, err) = Bat.Tests.Runner.RunnerTestKit.RunBat(dir.Path,
            ["baseline", "--manifest", synth.MultiLabel, "--preset", "smoke", "--mel-bins", "32", "--out", results]);
        Assert.True(code == 0, err);
        // LayerNorm over the 2M = 64 statistics (weight and bias) and Linear(64, C) with its bias.
        int classes = Manifest.Load(synth.MultiLabel).Task.NumClasses;
        int parameters = 2 * 64 + 64 * classes + classes;
        Assert.Contains($"logmel-lr on baseline / synth-multilabel: {parameters:N0} params", output);
        var rows = Bat.Reporting.ResultsTable.Read(results);
        var map = Assert.Single(rows, r => r.Metric == "map");
        Assert.Equal(("baseline", "logmel-lr", "synth-multilabel", "smoke"), (map.Model, map.Probe, map.Dataset, map.Preset));
        Assert.InRange(map.Value, 0, 100);

        var sed = dir.File("synth/synth-sed.csv");
        var (made, _, madeErr) = FrontendCommandTests.Bat("data", "manifest", "events", "--manifest", synth.MultiLabel, "--out", sed);
        Assert.True(made == 0, madeErr);
        var (sedCode, _, sedErr) = FrontendCommandTests.Bat("baseline", "--manifest", sed, "--preset", "smoke");
        Assert.Equal(1, sedCode);
        Assert.StartsWith($"error: {sed}: the log-mel baseline summarises whole clips", sedErr);
    }

    [Fact]
    public void BenchProbeTimesTheInputItIsGiven()
    {
        using var dir = new TempDir();
        // 128 mel bins on a 5 s task clip: 8 x 32 = 256 patches, twice the tokens of the tiny encoder's own input.
        var (code, output, err) = Bat.Tests.Runner.RunnerTestKit.RunBat(dir.Path,
            ["bench", "probe", "--preset", "tiny", "--mel-bins", "128", "--frames", "512", "--batch", "2", "--prototypes", "4", "--steps", "1", "--clips", "4", "--probe-steps", "1"]);
        Assert.True(code == 0, err);
        Assert.Contains("input 128 mel x 512 frames (256 patches)", output);
        Assert.Contains("cached is", output);
        var (bad, _, badErr) = FrontendCommandTests.Bat("bench", "probe", "--mel-bins", "100");
        Assert.Equal(1, bad);
        Assert.StartsWith("error: encoder config: frames 512 and mel bins 100 must be multiples of the patch size 16", badErr);
    }
}
