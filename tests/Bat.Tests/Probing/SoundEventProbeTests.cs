using Bat.Data;
using Bat.Data.Builders;
using Bat.Data.Synth;
using Bat.Experiments;
using Bat.Metrics;
using Bat.Model;
using Bat.Probing;
using Bat.Training;
using static TorchSharp.torch;

namespace Bat.Tests.Probing;

/// <summary>
/// Sound event detection end to end: synthetic clips with their events -> an event-labelled manifest -> the
/// DCASE 2016 task 2 recipe -> embed -> frame-wise CGP -> the event-based scores, recomputed here from the trained
/// probe's own predictions (the pipeline, not the weights, is under test).
/// </summary>
public class SoundEventProbeTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("batsed-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    static readonly EncoderConfig Small = EncoderConfig.Tiny with { Dim = 48, Heads = 2, Depth = 2 };

    internal static string SedManifest(string root, int clips = 24)
    {
        var synth = SyntheticBenchmark.Ensure(Path.Combine(root, "synth"), clips: clips, seed: 5, seconds: 1);
        return EventManifestBuilder.Build(synth.MultiLabel, null, Path.Combine(root, "synth", "synth-sed.csv")).Manifest;
    }

    [Fact]
    public void EventTaskTakesTheDcaseRecipeScaledByThePreset()
    {
        var source = CheckpointSource.Resolve(ProbeExperimentTests.MakeRun(dir, "a", 1, Small));
        var recipe = Preset.Smoke.RecipeFor(SedManifest(dir), source);
        Assert.Equal(RecipeFamily.Dcase2016Task2, recipe.Family);
        Assert.Equal(RecipeSelection.BestValidation, recipe.Selection);   // the synthetic task has a valid split, as DCASE's
        Assert.Empty(recipe.Folds);
        var official = TaskRecipe.OfficialProbing(RecipeFamily.Dcase2016Task2);
        Assert.Equal((4000, 4, 400, 50, 0.05), (official.Steps, official.BatchSize, official.WarmupSteps, official.EvaluateEvery, official.WeightDecay));
        Assert.Equal(TaskRecipe.ScaleProbing(official, Preset.Smoke.Recipes) with { Seed = 0 }, recipe.Probing);
        Assert.Equal(Math.Max(1, (int)Math.Round(4000 * Preset.Smoke.Recipes.ProbeSteps)), recipe.Probing.Steps);
        // The baselines keep their own official schedule (sed_{lp,lcgp,h2t,pb}_config.yaml), scaled alike.
        Assert.Equal(recipe.Probing, recipe.ProbingFor("cgp"));
        Assert.Equal(TaskRecipe.ScaleProbing(TaskRecipe.OfficialSedBaselineProbing, Preset.Smoke.Recipes), recipe.ProbingFor("lp"));
        Assert.Equal((10_000, 16, 1000, 500), (TaskRecipe.OfficialSedBaselineProbing.Steps, TaskRecipe.OfficialSedBaselineProbing.BatchSize,
            TaskRecipe.OfficialSedBaselineProbing.WarmupSteps, TaskRecipe.OfficialSedBaselineProbing.EvaluateEvery));
        Assert.Equal(TaskRecipe.OfficialProbing(RecipeFamily.AudioSet), TaskRecipe.For(Manifest.Load(Path.Combine(dir, "synth", "synth-multilabel.csv")),
            source.Encoder, source.Frontend.Kind, RecipeScale.Official).ProbingFor("lp"));   // clip tasks: one schedule for every probe
        var described = recipe.Describe(source.Encoder).ToDictionary(d => d.Choice, d => d.Value);
        Assert.Equal("DCASE 2016 task 2 (sound event detection)", described["official recipe"]);
        Assert.Contains("event-based onset F1 (collar 200 ms, threshold 0.3, median filter 3)", described["evaluation"]);
        Assert.Contains("160 ms time patch", described["evaluation"]);
    }

    [Fact]
    public void TheLogMelBaselineReadsClipTasksOnlyAndTable5GivesAnEventTaskNone()
    {
        string sed = SedManifest(dir), clips = Path.Combine(dir, "synth", "synth-multilabel.csv");
        Assert.False(LogMelBaseline.Reads(Manifest.Load(sed).Task));
        Assert.True(LogMelBaseline.Reads(Manifest.Load(clips).Task));
        var e = Assert.Throws<BatException>(() => LogMelBaseline.Open(sed, Bat.Frontends.FrontendConfig.For(Bat.Frontends.FrontendConfig.Bat, 64, 112)));
        Assert.Equal($"{sed}: the log-mel baseline summarises whole clips; an event-labelled task needs a frame-wise probe", e.Message);

        // Table 5 with no probe asked for: the baseline's rows alone, one for the clip task and none for the event task.
        var run = ProbeExperimentTests.MakeRun(dir, "a", 1, Small);
        var table = ProbeComparison.CompareProbes(Preset.Smoke, Path.Combine(dir, "out"), new ExperimentData("test", clips, [clips, sed]), [run], probes: []);
        var cell = Assert.Single(table);
        Assert.Equal((ProbeComparison.Baseline, Manifest.Load(clips).Task.Name), (cell.Model, cell.Dataset));
    }

    [Fact]
    public void EventClipsAreFedWholeAtTheOfficialFrameCount()
    {
        // DCASE 2016 task 2: 120 s -> time_frame_size 12000 = 750 time patches, beyond any position table (encoded in
        // chunks); short clips round up to the patch like the other tasks.
        Assert.Equal(12000, TaskRecipe.EventFramesFor(120, EncoderConfig.Base));
        Assert.Equal(12000, TaskRecipe.EventFramesFor(120, EncoderConfig.Tiny));
        Assert.Equal(112, TaskRecipe.EventFramesFor(1, EncoderConfig.Tiny));
        Assert.Equal(512, TaskRecipe.EventFramesFor(5, EncoderConfig.Tiny));
        var task = new TaskInfo("dcase", TaskKind.Multilabel, ["a"], ClipSeconds: 120, Events: "e.csv");
        Assert.Equal(12000, TaskRecipe.FramesFor(task, Bat.Frontends.FrontendConfig.Bat, EncoderConfig.Tiny));
        Assert.True(TaskRecipe.FramesFor(task with { Events = null }, Bat.Frontends.FrontendConfig.Bat, EncoderConfig.Tiny) < 12000);   // clip tasks stay within the table
    }

    [Fact]
    public void FrameWiseCgpTrainsOnSyntheticEventsAndItsEventScoresAreComputedFromItsPredictions()
    {
        var manifestCsv = SedManifest(dir);
        var source = CheckpointSource.Resolve(ProbeExperimentTests.MakeRun(dir, "a", 2, Small));
        var recipe = Preset.Smoke.RecipeFor(manifestCsv, source);
        using var session = ProbeExperiment.Open(source, manifestCsv, Path.Combine(dir, "cache"));
        var task = session.Task;
        var sed = Assert.IsType<SoundEventTask>(task.Events);
        Assert.Equal((160, Small.GridFreq), (sed.PatchMs, sed.FreqPatches));
        int timePatches = session.Input.Frames / Small.PatchSize;                  // 1 s clips: 7 time patches
        Assert.Equal(7, timePatches);
        Assert.Equal(new long[] { task.Train.Count, timePatches, 16 }, task.Train.Labels.shape);
        Assert.Equal(session.Manifest.Split("test").Select(session.Manifest.EventsOf), task.Test.Events!);
        // Every annotated event switches on the patches it covers (each lasts at least one 160 ms patch).
        Assert.True(task.Train.Labels.sum().item<float>() > 0);

        Devices.Seed(0);
        using var probe = ProbeCatalog.CreateFor(task, "cgp", prototypes: 8);
        Assert.IsType<FrameConvexGatedProbe>(probe);
        var result = ProbeTrainer.Train(probe, task, recipe.Probing);
        Assert.Equal("cgp-frame", result.Probe);
        Assert.Equal(SoundEventScores.SelectionMetric, result.SelectionMetric);
        Assert.All(result.LossCurve, l => Assert.True(double.IsFinite(l)));
        Assert.False(double.IsNaN(result.Heads[0].ValidationScore));

        // The probe holds the best validation evaluation's parameters: its test predictions give the reported scores.
        using var logits = ProbeTrainer.Predict(probe, task.Test.Embeddings, 16, CPU);   // (N, T, C)
        Assert.Equal(new long[] { task.Test.Count, timePatches, 16 }, logits.shape);
        using var probabilities = logits.sigmoid();
        var detected = new List<IReadOnlyList<SoundEvent>>();
        for (int i = 0; i < task.Test.Count; i++)
        {
            using var clip = probabilities[i];
            detected.Add(SoundEventMetrics.Detect(ClassificationMetrics.ToArray(clip), session.Manifest.Task.Classes, sed.PatchMs));
        }
        var events = SoundEventMetrics.OnsetBased(task.Test.Events!, detected);
        Assert.True(events.Reference > 0 && events.Detected > 0, $"{events}: the test clips have events and the probe detects some");
        Assert.Equal(100 * events.F1, result.Test[SoundEventScores.OnsetF1], 9);
        Assert.Equal(100 * events.Precision, result.Test["onset_precision_micro"], 9);
        Assert.Equal(100 * ClassificationMetrics.MicroAveragePrecision(ClassificationMetrics.ToArray(probabilities.reshape(-1, 16)),
            ClassificationMetrics.ToArray(task.Test.Labels.reshape(-1, 16))), result.Test["map_micro"], 9);
        Assert.Equal(task.Test.Count, result.Test["support"]);
    }

    [Fact]
    public void EventTasksRefuseClipProbesCrossValidationAndFineTuning()
    {
        var manifestCsv = SedManifest(dir, clips: 12);
        var source = CheckpointSource.Resolve(ProbeExperimentTests.MakeRun(dir, "a", 3, Small));
        Assert.Contains("'layer-lp' has no frame-wise variant", Assert.Throws<BatException>(() => ProbeCatalog.CreateFrameWise("layer-lp", 2, 48, 16, 8, 4)).Message);
        Assert.StartsWith($"{manifestCsv}: cross-validation of a sound event detection task",
            Assert.Throws<BatException>(() => ProbeExperiment.OpenFolds(source, manifestCsv, Path.Combine(dir, "cache"))).Message);
        Assert.StartsWith($"{manifestCsv}: fine-tuning a sound event detection task is not supported",
            Assert.Throws<BatException>(() => ProbeExperiment.FineTune(source, manifestCsv, TaskRecipe.OfficialFineTuning(RecipeFamily.Dcase2016Task2))).Message);
    }
}
