using Bat.Data;
using Bat.Data.Synth;
using Bat.Experiments;
using Bat.Frontends;
using Bat.Model;
using Bat.Pretraining;
using Bat.Probing;
using Bat.Training;
using static TorchSharp.torch;

namespace Bat.Tests.Probing;

/// <summary>
/// Every choice of the per-task official recipes (houtan-ghaffari/BAT_ICML2026 configs/esc50, scv2, as20k):
/// the family a task gets, its schedules, its input length, its normalisation, its folds.
/// </summary>
public class TaskRecipeTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("batrecipe-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    static readonly EncoderConfig Small = EncoderConfig.Tiny with { Dim = 48, Heads = 2, Depth = 2 };

    /// <summary>A manifest of silent clips (no audio needed for the recipe) with the given rows.</summary>
    string Manifest(string name, TaskKind kind, double seconds, IEnumerable<ManifestEntry> entries)
    {
        var path = Path.Combine(dir, name + ".csv");
        Bat.Data.Manifest.Save(path, new TaskInfo(name, kind, ["a", "b"], 16000, seconds, kind == TaskKind.Multilabel ? "mAP" : "accuracy"), entries);
        return path;
    }

    static IEnumerable<ManifestEntry> Rows(int count, Func<int, string> split, Func<int, int>? fold = null) =>
        Enumerable.Range(0, count).Select(i => new ManifestEntry($"clip{i}.wav", [i % 2 == 0 ? "a" : "b"], split(i), fold?.Invoke(i) ?? 0));

    [Fact]
    public void AnEsc50LayoutManifestGetsFiveFoldsAndTheEsc50Schedule()
    {
        var csv = Manifest("esc", TaskKind.Multiclass, 5, Rows(50, i => i % 5 == 4 ? "test" : i % 5 == 3 ? "valid" : "train", i => i % 5 + 1));
        var manifest = Bat.Data.Manifest.Load(csv);
        var recipe = TaskRecipe.For(manifest, EncoderConfig.Base, FrontendConfig.Bat, RecipeScale.Official);
        Assert.Equal(RecipeFamily.Esc50, recipe.Family);
        Assert.Equal(new[] { 1, 2, 3, 4, 5 }, recipe.Folds);
        // configs/esc50/esc50_cgp_config.yaml: 4000 steps x 48, warm-up 400, weight decay 0.2, lr 1e-3, tested at the end.
        Assert.Equal((4000, 48, 400, 0.2, 1e-3), (recipe.Probing.Steps, recipe.Probing.BatchSize, recipe.Probing.WarmupSteps, recipe.Probing.WeightDecay, recipe.Probing.LearningRate));
        Assert.Equal(RecipeSelection.FinalStep, recipe.ForFolds().Selection);
        // 5 s at 16 kHz = 501 BAT frames, padded to 512 = 32 time patches (official time_frame_size 512).
        Assert.Equal(512, recipe.Frames);
        // esc50_finetune_config.yaml: beta2 0.95, drop path 0.1, head dropout 0.2, no mixup, masks 16 bins / 32 frames once.
        var f = recipe.FineTuning;
        Assert.Equal((0.95, 0.1, 0.2, 0.0, 16, 32, 1), (f.Beta2, f.DropPath, f.HeadDropout, f.MixupProbability, f.FreqMaskBins, f.TimeMaskFrames, f.MaskRepeats));
        Assert.Equal((4000, 48, 400, 5e-5, 0.75, 0.05), (f.Steps, f.BatchSize, f.WarmupSteps, f.LearningRate, f.LayerDecay, f.WeightDecay));
        Assert.Equal((0.3, true), (f.ColourNoiseChance, f.TimeRoll));   // use_color_noise, color_noise_chance 0.3, use_time_roll

        // Without folds on every row it is no cross-validation.
        var partial = Manifest("partial", TaskKind.Multiclass, 5, Rows(10, i => i < 8 ? "train" : "test", i => i < 5 ? 1 : 0));
        Assert.Empty(TaskRecipe.FoldsOf(Bat.Data.Manifest.Load(partial)));
    }

    [Fact]
    public void AOneSecondSingleLabelTaskGetsTheScV2ScheduleAndA112FrameInput()
    {
        var csv = Manifest("sc", TaskKind.Multiclass, 1, Rows(30, i => i % 3 == 0 ? "test" : i % 3 == 1 ? "valid" : "train"));
        var recipe = TaskRecipe.For(Bat.Data.Manifest.Load(csv), EncoderConfig.Base, FrontendConfig.Bat, RecipeScale.Official);
        Assert.Equal(RecipeFamily.SpeechCommands, recipe.Family);
        // configs/scv2/scv2_cgp_config.yaml: batch 256, 10k steps, warm-up 1000, validation every 500 (best kept).
        Assert.Equal((10_000, 256, 1000, 500, 0.05), (recipe.Probing.Steps, recipe.Probing.BatchSize, recipe.Probing.WarmupSteps, recipe.Probing.EvaluateEvery, recipe.Probing.WeightDecay));
        Assert.Equal(RecipeSelection.BestValidation, recipe.Selection);
        Assert.Empty(recipe.Folds);
        // 1 s: 101 BAT frames (98 kaldi frames) -> 112 = 7 patches, as the official time_frame_size 112.
        Assert.Equal(112, recipe.Frames);
        Assert.Equal(112, TaskRecipe.FramesFor(1, FrontendConfig.Kaldi, EncoderConfig.Base));
        Assert.Equal(7, recipe.TimePatches(EncoderConfig.Base));
        // scv2_finetune_config.yaml: head dropout 0, no mixup, colour noise 0.3 and time roll.
        Assert.Equal((0.0, 0.0, 0.95), (recipe.FineTuning.HeadDropout, recipe.FineTuning.MixupProbability, recipe.FineTuning.Beta2));
        Assert.Equal((0.3, true), (recipe.FineTuning.ColourNoiseChance, recipe.FineTuning.TimeRoll));
    }

    [Fact]
    public void AMultiLabelTaskGetsTheAs20kScheduleTrainsOnAllOfTrainAndKeepsMixup()
    {
        var csv = Manifest("as", TaskKind.Multilabel, 10, Rows(20, i => i < 15 ? "train" : "test"));
        var recipe = TaskRecipe.For(Bat.Data.Manifest.Load(csv), EncoderConfig.Base, FrontendConfig.Bat, RecipeScale.Official);
        Assert.Equal(RecipeFamily.AudioSet, recipe.Family);
        Assert.Equal((20_000, 48, 500, 20_000), (recipe.Probing.Steps, recipe.Probing.BatchSize, recipe.Probing.WarmupSteps, recipe.Probing.EvaluateEvery));
        Assert.Equal(RecipeSelection.FinalStep, recipe.Selection);
        Assert.Equal(15, recipe.TrainClips);
        // 10 s: 1001 frames, fed at 1024 as the official time_frame_size (not 1008).
        Assert.Equal(1024, recipe.Frames);
        var f = recipe.FineTuning;
        Assert.Equal((0.9, 0.8, 64, 2, 0.2, 40_000, 4000), (f.MixupProbability, f.MixupAlpha, f.TimeMaskFrames, f.MaskRepeats, f.HeadDropout, f.Steps, f.WarmupSteps));
        Assert.Equal((0.0, false), (f.ColourNoiseChance, f.TimeRoll));    // as20k: use_color_noise false, use_time_roll false
    }

    [Fact]
    public void MixupIsOffForEverySingleLabelRecipeAndMixupAtZeroIsTheIdentity()
    {
        foreach (var preset in Preset.All)
            foreach (var (kind, seconds) in new[] { (TaskKind.Multiclass, 5.0), (TaskKind.Multiclass, 1.0), (TaskKind.Multilabel, 10.0) })
            {
                var csv = Manifest($"t{kind}{seconds}", kind, seconds, Rows(10, i => i < 8 ? "train" : "test"));
                var recipe = TaskRecipe.For(Bat.Data.Manifest.Load(csv), preset.Encoder, FrontendConfig.Bat, preset.Recipes);
                Assert.Equal(kind == TaskKind.Multiclass || !preset.Recipes.FineTuneRegularised ? 0 : 0.9, recipe.FineTuning.MixupProbability);
            }
        var config = TaskRecipe.OfficialFineTuning(RecipeFamily.Esc50);
        using var x = randn(4, 1, 8, 8);
        using var y = eye(4);
        var (mx, my) = FineTuner.Mixup(x, y, config, new Random(0));
        Assert.Same(x, mx);
        Assert.Same(y, my);
    }

    [Fact]
    public void CpuPresetsScaleEverySchedulesStepsByTheirStatedFactor()
    {
        var csv = Manifest("esc", TaskKind.Multiclass, 5, Rows(50, i => i % 5 == 4 ? "test" : "train", i => i % 5 + 1));
        var manifest = Bat.Data.Manifest.Load(csv);
        var tiny = TaskRecipe.For(manifest, Preset.Tiny.Encoder, FrontendConfig.Bat, Preset.Tiny.Recipes);
        // 4000 x 0.075 = 300 steps, warm-up 400 x 0.075 = 30, the rest as official.
        Assert.Equal((300, 30, 48, 0.2), (tiny.Probing.Steps, tiny.Probing.WarmupSteps, tiny.Probing.BatchSize, tiny.Probing.WeightDecay));
        Assert.Equal(300, tiny.Probing.EvaluateEvery);   // still tested once, at the end
        Assert.Equal(8, tiny.FineTuning.FreqMaskBins);   // 16 of 128 mel bins -> 8 of the tiny encoder's 64
        var smoke = TaskRecipe.For(manifest, Preset.Smoke.Encoder, FrontendConfig.Bat, Preset.Smoke.Recipes);
        Assert.Equal((12, 16), (smoke.Probing.Steps, smoke.Probing.BatchSize));
        Assert.Contains(smoke.Describe(Preset.Smoke.Encoder), d => d.Choice == "scale" && d.Value.Contains("x 0.003") && d.Value.Contains(Preset.Smoke.Recipes.Reason));
        Assert.Contains(TaskRecipe.For(manifest, EncoderConfig.Base, FrontendConfig.Bat, Preset.Base.Recipes).Describe(EncoderConfig.Base), d => d.Choice == "scale" && d.Value == "official");
        // The AS-20k recipe at each preset's scale is the preset's task-free probe schedule.
        var multi = Bat.Data.Manifest.Load(Manifest("ml", TaskKind.Multilabel, 10, Rows(10, i => i < 8 ? "train" : "test")));
        foreach (var preset in Preset.All)
            Assert.Equal(preset.Probing.Steps, TaskRecipe.For(multi, preset.Encoder, FrontendConfig.Bat, preset.Recipes).Probing.Steps);
    }

    [Fact]
    public void TheTinyPresetFineTunesWithoutAugmentationOrDropPathAndTheOfficialScaleKeepsThem()
    {
        var csv = Manifest("sc", TaskKind.Multiclass, 1, Rows(30, i => i % 3 == 0 ? "test" : i % 3 == 1 ? "valid" : "train"));
        var manifest = Bat.Data.Manifest.Load(csv);
        var official = TaskRecipe.For(manifest, EncoderConfig.Base, FrontendConfig.Bat, Preset.Base.Recipes).FineTuning;
        Assert.True(official.Augments);
        Assert.Equal((0.1, 1, 0.3, true), (official.DropPath, official.MaskRepeats, official.ColourNoiseChance, official.TimeRoll));
        var tinyRecipe = TaskRecipe.For(manifest, Preset.Tiny.Encoder, FrontendConfig.Bat, Preset.Tiny.Recipes);
        var tiny = tinyRecipe.FineTuning;
        Assert.False(Preset.Tiny.Recipes.FineTuneRegularised);
        Assert.False(tiny.Augments);
        Assert.Equal((0.0, 0, 0.0, false, 0.0), (tiny.DropPath, tiny.MaskRepeats, tiny.ColourNoiseChance, tiny.TimeRoll, tiny.MixupProbability));
        Assert.Equal(Preset.Tiny.Recipes.FineTuneLearningRate, tiny.LearningRate);
        Assert.Contains(tinyRecipe.Describe(Preset.Tiny.Encoder), d => d.Choice == "scale" && d.Value.Contains("fine-tune without augmentation or drop path"));
        Assert.Contains(tinyRecipe.Describe(Preset.Tiny.Encoder), d => d.Choice == "fine-tune" && d.Value.Contains("drop path 0,") && d.Value.Contains("colour noise off, time roll off"));
        // --augment true puts the official masks back at the scaled mask size.
        var back = tiny.WithAugmentationOf(TaskRecipe.OfficialFineTuning(RecipeFamily.SpeechCommands));
        Assert.Equal((1, 0.3, true, tiny.FreqMaskBins), (back.MaskRepeats, back.ColourNoiseChance, back.TimeRoll, back.FreqMaskBins));
    }

    [Fact]
    public void CpuPresetsGiveASmallTasksFineTuningTenPassesUpToACap()
    {
        RecipeFamily[] families = [RecipeFamily.Esc50, RecipeFamily.SpeechCommands, RecipeFamily.AudioSet];
        TaskRecipe Tiny(string name, TaskKind kind, double seconds, int train) =>
            TaskRecipe.For(Bat.Data.Manifest.Load(Manifest(name, kind, seconds, Rows(train + 10, i => i < train ? "train" : "test"))),
                Preset.Tiny.Encoder, FrontendConfig.Bat, Preset.Tiny.Recipes);
        // ESC-50's 4000 steps x 0.01 = 40 steps x 16 clips would be 0.8 of a pass over 768 clips: raised to 10 passes,
        // 768 x 10 / 16 = 480 steps, the warm-up by the same factor (400 x 480 / 4000 = 48), evaluation still at the end.
        var f = Tiny("instruments", TaskKind.Multiclass, 5, 768).FineTuning;
        Assert.Equal((480, 16, 48, 480), (f.Steps, f.BatchSize, f.WarmupSteps, f.EvaluateEvery));
        // SC-v2's 10k x 0.01 = 100 steps on 1900 clips: ceil(19000 / 16) = 1188 steps, warm-up 1000 x 0.1188 = 119,
        // validation every 500 x 0.1188 = 59.
        var k = Tiny("keywords", TaskKind.Multiclass, 1, 1900).FineTuning;
        Assert.Equal((1188, 119, 59), (k.Steps, k.WarmupSteps, k.EvaluateEvery));
        // The embedded benchmark (AS-20k's 400 steps x 16 on 280 clips: 23 passes) keeps the factor alone.
        Assert.Equal((400, 40), (Tiny("embedded", TaskKind.Multilabel, 5, 280).FineTuning.Steps, Tiny("embedded", TaskKind.Multilabel, 5, 280).FineTuning.WarmupSteps));
        // A large task is raised to the cap only (20 000 clips would want 12 500 steps).
        Assert.Equal(Preset.Tiny.Recipes.FineTuneMaxRaisedSteps, Tiny("large", TaskKind.Multilabel, 10, 20_000).FineTuning.Steps);
        // Smoke (CI) and the official schedules are not raised.
        Assert.Equal(1, TaskRecipe.ScaleFineTuning(TaskRecipe.OfficialFineTuning(RecipeFamily.Esc50), Preset.Smoke.Recipes, 64, 768).Steps);
        foreach (var family in families)
            Assert.Equal(TaskRecipe.OfficialFineTuning(family).Steps, TaskRecipe.ScaleFineTuning(TaskRecipe.OfficialFineTuning(family), RecipeScale.Official, 128, 1_000_000).Steps);
        Assert.Contains("at least 10 epochs up to 1200 steps", Preset.Tiny.Recipes.Describe());
    }

    [Fact]
    public void AOneSecondTaskIsEmbeddedAtOneSecondWithItsOwnNumberOfPatches()
    {
        var manifests = SyntheticBenchmark.Ensure(Path.Combine(dir, "synth"), clips: 20, seed: 1, seconds: 1);
        // The benchmark's task without its validation split (its clips join train), as AS-20k has none.
        var synth = Bat.Data.Manifest.Load(manifests.MultiLabel);
        var csv = Path.Combine(Path.GetDirectoryName(manifests.MultiLabel)!, "no-valid.csv");
        Bat.Data.Manifest.Save(csv, synth.Task, synth.Entries.Select(e => e.Split == "test" ? e : e with { Split = "train" }));
        var source = CheckpointSource.Resolve(ProbeExperimentTests.MakeRun(dir, "a", 1, Small));
        var cache = Path.Combine(dir, "cache");
        using var session = ProbeExperiment.Open(source, csv, cache);
        // 1 s = 101 BAT frames -> 112 = 7 time patches x 4 mel patches (64 bins), not the encoder's 32 x 4 of 5.12 s.
        Assert.Equal(112, session.Input.Frames);
        Assert.Equal(112, session.Input.Frontend.TargetFrames);
        Assert.Equal(7 * Small.GridFreq, session.Task.Train.Embeddings.Patches);
        var features = session.Task.Test.Embeddings.Gather([0], withPatches: true, CPU);
        Assert.Equal(new long[] { 1, Small.Depth, 28, Small.Dim }, features.Patches.shape);
        Assert.Equal(1 + 28, EmbeddingCache.ReadHeader(EmbeddingCache.FileFor(cache, "train"), out _).Tokens);
        // No validation split: no hold-out carved, the probe trains on all of train and reports its last step.
        Assert.Null(session.Task.Validation);
        Assert.Equal(synth.Entries.Count(e => e.Split != "test"), session.Task.Train.Count);
        var run = ProbeExperiment.Run(session.Task, "lp", 1, ProbeTrainingConfig.Smoke.WithSteps(7) with { BatchSize = 4 });
        Assert.Equal(7, run.Heads[0].BestStep);
        Assert.True(double.IsNaN(run.Heads[0].ValidationScore));
    }

    [Fact]
    public void KaldiConstantsComeFromTheTasksTrainSplitAreCachedAndRecordedInTheCache()
    {
        var manifests = SyntheticBenchmark.Ensure(Path.Combine(dir, "synth"), clips: 20, seed: 4, seconds: 1);
        var manifest = Bat.Data.Manifest.Load(manifests.MultiLabel);
        var cache = Path.Combine(dir, "cache");
        var norm = TaskInput.TaskNorm(manifest, FrontendConfig.Kaldi, 64, cache);

        // By hand: every log-mel value of every train clip (and only those), population mean and std in float64.
        var frontend = new KaldiFrontend(FrontendConfig.Unnormalised(FrontendConfig.Kaldi, 64));
        var values = manifest.Split("train").SelectMany(e =>
        {
            using var fbank = frontend.LogFbank(tensor(Bat.Audio.AudioReader.Load(e.FullPath).Samples).unsqueeze(0));
            return fbank.data<float>().ToArray().Select(v => (double)v);
        }).ToArray();
        double mean = values.Average(), std = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
        Assert.Equal(mean, norm.Mean, 4);
        Assert.Equal(std, norm.Std, 4);
        var test = manifest.Split("test").SelectMany(e =>
        {
            using var fbank = frontend.LogFbank(tensor(Bat.Audio.AudioReader.Load(e.FullPath).Samples).unsqueeze(0));
            return fbank.data<float>().ToArray().Select(v => (double)v);
        }).ToArray();
        Assert.NotEqual(values.Concat(test).Average(), norm.Mean, 4);   // the test split is not in it

        // Cached: the file is read back (a changed value in it is what comes out), keyed by the manifest's content.
        var file = TaskInput.NormFile(cache, FrontendConfig.Kaldi, 64);
        Json.Save(file, norm with { Mean = 123 });
        Assert.Equal(123, TaskInput.TaskNorm(manifest, FrontendConfig.Kaldi, 64, cache).Mean);

        // A kaldi run's task input carries them, and so does every embedding cache header made with it.
        var run = ProbeExperimentTests.MakeRun(dir, "k", 2, Small);
        var config = Json.Load<PretrainConfig>(Checkpoint.ConfigPath(run)) with
        {
            Frontend = new FrontendConfig(FrontendConfig.Kaldi, 64, Small.Frames, NormMean: -4, NormStd: 4, NormName: "pre-training set"),
        };
        Json.Save(Checkpoint.ConfigPath(run), config);
        var source = CheckpointSource.Resolve(run);
        var input = TaskInput.For(source, manifest, cache);
        Assert.Equal((123.0, norm.Std, $"task:{manifest.Task.Name}/train"), (input.Frontend.NormMean!.Value, input.Frontend.NormStd!.Value, input.Frontend.NormName!));
        ProbeExperiment.Embed(source, manifests.MultiLabel, cache, ["test"]);
        var header = EmbeddingCache.ReadHeader(EmbeddingCache.FileFor(cache, "test"), out _);
        Assert.Equal(123.0, header.FrontendConfig.GetProperty("normMean").GetDouble());
    }

    [Fact]
    public void FoldsTrainOnTheOtherFoldsAndReportEachFoldTheMeanAndTheStd()
    {
        var manifests = SyntheticBenchmark.Ensure(Path.Combine(dir, "synth"), clips: 30, seed: 2, seconds: 1);
        var single = Bat.Data.Manifest.Load(manifests.SingleLabel);
        var esc = Path.Combine(Path.GetDirectoryName(manifests.SingleLabel)!, "esc-layout.csv");
        Bat.Data.Manifest.Save(esc, single.Task, single.Entries.Select((e, i) => e with { Fold = i % 5 + 1 }));
        var source = CheckpointSource.Resolve(ProbeExperimentTests.MakeRun(dir, "a", 3, Small));
        var cache = Path.Combine(dir, "cache");
        using var cv = ProbeExperiment.OpenFolds(source, esc, cache);
        Assert.Equal(new[] { 1, 2, 3, 4, 5 }, cv.Folds.Select(f => f.Fold));
        int total = single.Entries.Count;
        foreach (var (fold, task) in cv.Folds)
        {
            Assert.Null(task.Validation);
            Assert.Equal(total, task.Train.Count + task.Test.Count);
            Assert.Equal(Enumerable.Range(0, total).Count(i => i % 5 + 1 == fold), task.Test.Count);
        }
        // The stacked rows are the split caches' rows: fold 1's first test clip is the manifest's first row.
        var firstRow = single.Entries[0];
        using (var own = EmbeddingCache.Open(EmbeddingCache.FileFor(cache, firstRow.Split)))
        {
            var direct = own.Gather([0], true, CPU);   // the manifest's first row is its split's first row
            var stacked = cv.Folds[0].Task.Test.Embeddings.Gather([0, 1], true, CPU);
            Assert.True(stacked.Patches[0].allclose(direct.Patches[0], 0, 0));
            Assert.True(stacked.Cls[0].allclose(direct.Cls[0], 0, 0));
        }

        var result = ProbeExperiment.RunFolds(cv, "lp", 1, ProbeTrainingConfig.Smoke.WithSteps(4) with { BatchSize = 4 });
        var accuracies = result.Folds.Select(f => f.Result.Test["accuracy"]).ToArray();
        double mean = accuracies.Average();
        Assert.Equal(mean, result.Mean["accuracy"], 10);
        Assert.Equal(Math.Sqrt(accuracies.Average(a => (a - mean) * (a - mean))), result.Std["accuracy"], 10);
        var rows = ProbeResults.FoldRows(result, "probe", "esc", "m", 1, 0, "smoke", "c");
        Assert.Equal(5, rows.Count(r => r.Metric == "accuracy" && r.Dataset.StartsWith("esc/fold")));
        Assert.Equal(mean, rows.Single(r => r.Dataset == "esc" && r.Metric == "accuracy").Value, 10);
        Assert.Equal(result.Std["accuracy"], rows.Single(r => r.Dataset == "esc" && r.Metric == "accuracy_std").Value, 10);
        Assert.Equal(5, rows.Single(r => r.Dataset == "esc" && r.Metric == "folds").Value);

        // A manifest without folds is refused with the file named.
        Assert.Contains(manifests.MultiLabel, Assert.Throws<BatException>(() => ProbeExperiment.OpenFolds(source, manifests.MultiLabel, cache)).Message);
    }
}
