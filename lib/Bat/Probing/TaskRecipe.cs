using System.Globalization;
using Bat.Data;
using Bat.Frontends;
using Bat.Model;

namespace Bat.Probing;

/// <summary>
/// Which official recipe a downstream task follows (houtan-ghaffari/BAT_ICML2026, configs/{esc50,scv2,as20k}):
/// ESC-50 for single-label clip classification (5 s clips, cross-validated over its folds when the manifest has
/// them), SC-v2 for short single-label clips (keyword spotting, 1 s), AS-20k for multi-label tagging, and DCASE 2016
/// task 2 (configs/dcase2016_task2) for sound event detection (an event-labelled manifest: frame-wise probes).
/// </summary>
public enum RecipeFamily { Esc50, SpeechCommands, AudioSet, Dcase2016Task2 }

/// <summary>How the reported model is chosen.</summary>
public enum RecipeSelection
{
    /// <summary>Train on all of train and report the last step on test (official ESC-50 folds and AS-20k: no validation).</summary>
    FinalStep,
    /// <summary>Evaluate on the manifest's validation split and report the test score of the best evaluation (official SC-v2).</summary>
    BestValidation,
}

/// <summary>
/// How far a preset shortens the official schedules (the official values are GPU runs of tens of thousands of
/// steps). Steps are multiplied by the factor (warm-up and evaluation interval too, so the schedule keeps its
/// shape); batches above the cap are cut to it. One factor for every task would leave a small task's fine-tuning
/// less than one pass over its clips (ESC-50's 4000 steps x 0.01 = 40 steps of 16 clips on a 768-clip task), so the
/// fine-tuning factor is raised, for that task alone, to give at least <paramref name="FineTuneMinEpochs"/> passes,
/// up to <paramref name="FineTuneMaxRaisedSteps"/> steps (so a large task costs minutes, not hours, on a CPU preset)
/// and never beyond the official steps. <see cref="Official"/> runs the official recipes unchanged.
/// </summary>
/// <param name="FineTuneMinEpochs">fine-tuning passes over the task's training clips at least (0: the factor alone)</param>
/// <param name="FineTuneMaxRaisedSteps">the most steps that raising the factor may give</param>
/// <param name="FineTuneRegularised">false: fine-tuning without the official input augmentation (SpecAugment, colour
/// noise, time roll, mixup) and drop path. They regularise schedules of tens of epochs over tens of thousands of
/// clips; in 10 epochs over a CPU task's couple of thousand clips they keep the network from fitting at all (measured
/// on the offline keywords task: the recipe's fine-tuning never left the majority class, from a pre-trained
/// encoder or an untrained one; docs/method.md section 6)</param>
public sealed record RecipeScale(double ProbeSteps, double FineTuneSteps, int? ProbeMaxBatch, int? FineTuneMaxBatch,
    double FineTuneLearningRate, string Reason, int FineTuneMinEpochs = 0, int FineTuneMaxRaisedSteps = 0, bool FineTuneRegularised = true)
{
    /// <summary>The official schedules: factor 1, no batch cap, fine-tuning lr 5e-5.</summary>
    public static RecipeScale Official { get; } = new(1, 1, null, null, 5e-5, "none: the official schedules");

    public bool IsOfficial => ProbeSteps == 1 && FineTuneSteps == 1 && ProbeMaxBatch is null && FineTuneMaxBatch is null;

    /// <summary>One line for the recipe tables and `bat probe --help`.</summary>
    public string Describe() => IsOfficial ? "official" : string.Create(CultureInfo.InvariantCulture,
        $"steps x {ProbeSteps:G3} (probe), x {FineTuneSteps:G3} (fine-tune{(FineTuneMinEpochs > 0 ? $"; at least {FineTuneMinEpochs} epochs up to {FineTuneMaxRaisedSteps} steps" : "")})" +
        $"{(ProbeMaxBatch is int pb ? $", probe batch <= {pb}" : "")}{(FineTuneMaxBatch is int fb ? $", fine-tune batch <= {fb}" : "")}, " +
        $"fine-tune lr {FineTuneLearningRate:G3}{(FineTuneRegularised ? "" : ", fine-tune without augmentation or drop path")}: {Reason}");
}

/// <summary>
/// The official recipe of one downstream task, chosen from the task itself (its clip length, its kind, its size,
/// its fold layout) and scaled by the preset. It fixes every choice the official configs make per dataset:
/// the input length (the task's own clip length rounded up to the patch size, not the pre-training length), the
/// probe schedule, the selection rule (no 15 % hold-out: without a validation split the probe trains on all of
/// train), the cross-validation folds of an ESC-50-layout manifest, and the fine-tuning recipe (beta2 0.95, drop
/// path 0.1, head dropout, mixup only on multi-label tasks, BAT's SpecAugment masks). docs/method.md section 5
/// lists the official values beside ours.
/// </summary>
public sealed record TaskRecipe(
    string Task,
    RecipeFamily Family,
    TaskKind Kind,
    double ClipSeconds,
    int TrainClips,
    int Frames,
    IReadOnlyList<int> Folds,
    RecipeSelection Selection,
    ProbeTrainingConfig Probing,
    FineTuneConfig FineTuning,
    RecipeScale Scale)
{
    /// <summary>Single-label clips up to this long follow SC-v2 (keyword spotting), longer ones ESC-50.</summary>
    public const double ShortClipSeconds = 2;

    /// <summary>Official probe schedules (steps, batch, warm-up, weight decay, evaluation interval).</summary>
    public static ProbeTrainingConfig OfficialProbing(RecipeFamily family) => family switch
    {
        RecipeFamily.Esc50 => new(Steps: 4000, BatchSize: 48, WarmupSteps: 400, EvaluateEvery: 4000, WeightDecay: 0.2),
        RecipeFamily.SpeechCommands => new(Steps: 10_000, BatchSize: 256, WarmupSteps: 1000, EvaluateEvery: 500, WeightDecay: 0.05),
        // sed_cgp_config.yaml: validation (frame micro mAP) every 50 steps, the best one's test score.
        RecipeFamily.Dcase2016Task2 => new(Steps: 4000, BatchSize: 4, WarmupSteps: 400, EvaluateEvery: 50, WeightDecay: 0.05),
        _ => new(Steps: 20_000, BatchSize: 48, WarmupSteps: 500, EvaluateEvery: 20_000, WeightDecay: 0.05),
    };

    /// <summary>
    /// The official DCASE 2016 task 2 schedule of the frame-wise baselines (sed_{lp,lcgp,h2t,pb}_config.yaml: 10k steps
    /// x batch 16, warm-up 1000, validation every 500, wd 0.05), where CGP's (<see cref="OfficialProbing"/>) is 4000 x 4.
    /// </summary>
    public static ProbeTrainingConfig OfficialSedBaselineProbing { get; } =
        new(Steps: 10_000, BatchSize: 16, WarmupSteps: 1000, EvaluateEvery: 500, WeightDecay: 0.05);

    /// <summary>The probe schedule of <paramref name="probe"/>: the family's, except the DCASE baselines' own (scaled alike).</summary>
    public ProbeTrainingConfig ProbingFor(string probe) =>
        Family == RecipeFamily.Dcase2016Task2 && probe != "cgp"
            ? ScaleProbing(OfficialSedBaselineProbing, Scale) with { Seed = Probing.Seed }
            : Probing;

    /// <summary>
    /// Official fine-tuning: lr 5e-5, layer decay 0.75, wd 0.05, AdamW (0.9, 0.95), drop path 0.1; head dropout
    /// 0.2 (ESC-50, AS-20k) or 0 (SC-v2); mixup (p 0.9, Beta(0.8, 0.8)) only on AS-20k; SpecAugment masks
    /// (torchaudio FrequencyMasking / TimeMasking, iid) of up to 16 mel bins and 32 frames once (ESC-50, SC-v2) or
    /// 64 frames twice (AS-20k); colour noise on the waveform (chance 0.3, Bat.Audio.ColourNoise) and a random circular time roll on ESC-50 and SC-v2.
    /// </summary>
    public static FineTuneConfig OfficialFineTuning(RecipeFamily family) => family switch
    {
        RecipeFamily.Esc50 => new(Steps: 4000, BatchSize: 48, WarmupSteps: 400, EvaluateEvery: 4000, LearningRate: 5e-5,
            HeadDropout: 0.2, MixupProbability: 0, FreqMaskBins: 16, TimeMaskFrames: 32, MaskRepeats: 1, ColourNoiseChance: 0.3, TimeRoll: true),
        RecipeFamily.SpeechCommands => new(Steps: 10_000, BatchSize: 256, WarmupSteps: 1000, EvaluateEvery: 500, LearningRate: 5e-5,
            HeadDropout: 0, MixupProbability: 0, FreqMaskBins: 16, TimeMaskFrames: 32, MaskRepeats: 1, ColourNoiseChance: 0.3, TimeRoll: true),
        // sed_finetune_config.yaml, listed for the record: fine-tuning an event task is not implemented (FineTune refuses it).
        RecipeFamily.Dcase2016Task2 => new(Steps: 4000, BatchSize: 4, WarmupSteps: 400, EvaluateEvery: 50, LearningRate: 5e-5,
            HeadDropout: 0.2, MixupProbability: 0.9, FreqMaskBins: 16, TimeMaskFrames: 64, MaskRepeats: 2, ColourNoiseChance: 0.3),
        _ => new(Steps: 40_000, BatchSize: 48, WarmupSteps: 4000, EvaluateEvery: 40_000, LearningRate: 5e-5,
            HeadDropout: 0.2, MixupProbability: 0.9, FreqMaskBins: 16, TimeMaskFrames: 64, MaskRepeats: 2),
    };

    /// <summary>The family of a task: event-labelled -> DCASE 2016 task 2; multi-label -> AS-20k; single-label with folds or long clips -> ESC-50; short single-label clips -> SC-v2.</summary>
    public static RecipeFamily FamilyOf(TaskInfo task, bool hasFolds) =>
        task.HasEvents ? RecipeFamily.Dcase2016Task2
        : task.Kind == TaskKind.Multilabel ? RecipeFamily.AudioSet
        : hasFolds || task.ClipSeconds > ShortClipSeconds ? RecipeFamily.Esc50
        : RecipeFamily.SpeechCommands;

    /// <summary>
    /// The cross-validation folds of an ESC-50-layout manifest: every row has a fold (1 or more) and there are at
    /// least two; empty otherwise (the manifest's train/test split is used).
    /// </summary>
    public static IReadOnlyList<int> FoldsOf(Manifest manifest) =>
        manifest.Entries.Count > 0 && manifest.Entries.All(e => e.Fold >= 1) && manifest.Entries.Select(e => e.Fold).Distinct().Count() >= 2
            ? manifest.Entries.Select(e => e.Fold).Distinct().Order().ToList()
            : [];

    /// <summary>
    /// Model input frames of a clip of <paramref name="seconds"/>: the frontend's frame count, rounded up to a
    /// multiple of the patch size (zero-padded, as the official code pads 501 -> 512 frames for ESC-50 and
    /// 101 -> 112 for SC-v2), within the encoder's position table. A clip less than two patches short of the
    /// pre-training length gets that length, as the official AS-20k config pads 1001 frames to 1024, not 1008.
    /// </summary>
    public static int FramesFor(double seconds, string frontendKind, EncoderConfig encoder)
    {
        int frames = Frontend.FrameCount(frontendKind, (int)Math.Round(seconds * FrontendConfig.SampleRate));
        int patch = encoder.PatchSize;
        if (frames <= encoder.Frames && encoder.Frames - frames < 2 * patch) return encoder.Frames;
        int rounded = Math.Max(patch, (frames + patch - 1) / patch * patch);
        return Math.Min(rounded, encoder.MaxTimePatches * patch);
    }

    /// <summary>
    /// Model input frames of a sound event detection clip: its length in 10 ms hops rounded up to the patch size, not
    /// limited by the position table (<see cref="ChunkedEncoding"/> encodes it in chunks), as the official
    /// DCASE 2016 task 2 input is time_frame_size 12000 frames = 750 time patches for its 120 s clips (the frontend's
    /// 12001 frames cropped).
    /// </summary>
    public static int EventFramesFor(double seconds, EncoderConfig encoder)
    {
        int patch = encoder.PatchSize;
        int frames = (int)Math.Ceiling(Math.Round(seconds * FrontendConfig.SampleRate) / Bat.Frontends.BatFrontend.Hop - 1e-9);
        return Math.Max(patch, (frames + patch - 1) / patch * patch);
    }

    /// <summary>The input frames of a task: <see cref="EventFramesFor"/> for an event-labelled one, else <see cref="FramesFor"/>.</summary>
    public static int FramesFor(TaskInfo task, string frontendKind, EncoderConfig encoder) =>
        task.HasEvents ? EventFramesFor(task.ClipSeconds, encoder) : FramesFor(task.ClipSeconds, frontendKind, encoder);

    /// <summary>
    /// The recipe of a manifest's task for an encoder and frontend kind, scaled by <paramref name="scale"/>.
    /// <paramref name="seed"/> is set on both schedules.
    /// </summary>
    public static TaskRecipe For(Manifest manifest, EncoderConfig encoder, string frontendKind, RecipeScale scale, long seed = 0)
    {
        IReadOnlyList<int> folds = manifest.Task.HasEvents ? [] : FoldsOf(manifest);
        var family = FamilyOf(manifest.Task, folds.Count > 0);
        var selection = ProbeExperiment.ValidationSplit(manifest) is null ? RecipeSelection.FinalStep : RecipeSelection.BestValidation;
        int trainClips = manifest.Splits.Contains(ProbeExperiment.TrainSplit) ? manifest.Split(ProbeExperiment.TrainSplit).Count : 0;
        return new TaskRecipe(manifest.Task.Name, family, manifest.Task.Kind, manifest.Task.ClipSeconds, trainClips,
            FramesFor(manifest.Task, frontendKind, encoder), folds, selection,
            ScaleProbing(OfficialProbing(family), scale) with { Seed = seed },
            ScaleFineTuning(OfficialFineTuning(family), scale, encoder.MelBins, trainClips) with { Seed = seed },
            scale);
    }

    /// <summary>The official recipe's name, as the tables show it.</summary>
    public static string FamilyName(RecipeFamily family) => family switch
    {
        RecipeFamily.Esc50 => "ESC-50",
        RecipeFamily.SpeechCommands => "SC-v2",
        RecipeFamily.Dcase2016Task2 => "DCASE 2016 task 2 (sound event detection)",
        _ => "AS-20k",
    };

    /// <summary>The recipe when cross-validating: every non-test fold is train, no validation, the last step is reported.</summary>
    public TaskRecipe ForFolds() => this with { Selection = RecipeSelection.FinalStep };

    /// <summary>Time patches of the input (the number of patch tokens is this times the frequency patches).</summary>
    public int TimePatches(EncoderConfig encoder) => Frames / encoder.PatchSize;

    static int Scaled(int steps, double factor) => Math.Max(1, (int)Math.Round(steps * factor));

    static int Capped(int batch, int? cap) => cap is int c ? Math.Min(batch, c) : batch;

    /// <summary>Steps, warm-up and evaluation interval times the factor; the batch cut to the cap; a final-step
    /// schedule (evaluation interval = steps) stays one.</summary>
    internal static ProbeTrainingConfig ScaleProbing(ProbeTrainingConfig official, RecipeScale scale)
    {
        int steps = Scaled(official.Steps, scale.ProbeSteps);
        bool finalOnly = official.EvaluateEvery >= official.Steps;
        return official with
        {
            Steps = steps,
            BatchSize = Capped(official.BatchSize, scale.ProbeMaxBatch),
            WarmupSteps = Math.Min(steps - 1, (int)Math.Round(official.WarmupSteps * scale.ProbeSteps)),
            EvaluateEvery = finalOnly ? steps : Math.Max(1, Math.Min(steps, Scaled(official.EvaluateEvery, scale.ProbeSteps))),
        };
    }

    /// <summary>As <see cref="ScaleProbing"/>, plus the lr of the scale, the frequency mask in proportion to the mel bins (16 of 128),
    /// and without augmentation or drop path when the scale is not <see cref="RecipeScale.FineTuneRegularised"/>.</summary>
    internal static FineTuneConfig ScaleFineTuning(FineTuneConfig official, RecipeScale scale, int melBins, int trainClips)
    {
        int batch = Capped(official.BatchSize, scale.FineTuneMaxBatch);
        int minSteps = Math.Min(scale.FineTuneMaxRaisedSteps, (int)Math.Ceiling(scale.FineTuneMinEpochs * (double)trainClips / batch));
        double factor = Math.Max(scale.FineTuneSteps, Math.Min(1.0, minSteps / (double)official.Steps));
        int steps = Scaled(official.Steps, factor);
        bool finalOnly = official.EvaluateEvery >= official.Steps;
        var scaled = official with
        {
            Steps = steps,
            BatchSize = batch,
            WarmupSteps = Math.Min(steps - 1, (int)Math.Round(official.WarmupSteps * factor)),
            EvaluateEvery = finalOnly ? steps : Math.Max(1, Math.Min(steps, Scaled(official.EvaluateEvery, factor))),
            LearningRate = scale.FineTuneLearningRate,
            FreqMaskBins = Math.Max(1, official.FreqMaskBins * melBins / 128),
        };
        return scale.FineTuneRegularised ? scaled : scaled.WithoutAugmentation() with { MixupProbability = 0, DropPath = 0 };
    }

    /// <summary>One line per choice, for the notebook's plan table and `bat probe`.</summary>
    public IReadOnlyList<(string Choice, string Value)> Describe(EncoderConfig encoder)
    {
        var p = Probing;
        var f = FineTuning;
        return
        [
            ("task", $"{Task} ({(Family == RecipeFamily.Dcase2016Task2 ? "sound events" : Kind == TaskKind.Multilabel ? "multi-label" : "single-label")}, {ClipSeconds:0.##} s clips, {TrainClips} train clips)"),
            ("official recipe", FamilyName(Family)),
            ("input", $"{Frames} frames = {TimePatches(encoder)} x {encoder.GridFreq} patches (own clip length, rounded up to {encoder.PatchSize})"),
            ("evaluation", Family == RecipeFamily.Dcase2016Task2
                ? $"frame-wise probe (one prediction per {Bat.Data.SoundEvents.PatchMilliseconds(encoder.PatchSize)} ms time patch), binary cross-entropy; " +
                  (Selection == RecipeSelection.BestValidation ? "best validation frame micro mAP, its test score" : "test at the last step") +
                  "; main metric event-based onset F1 (collar 200 ms, threshold 0.3, median filter 3)"
                : Folds.Count > 0 ? $"{Folds.Count}-fold cross-validation (folds {string.Join(",", Folds)}), mean and std"
                : Selection == RecipeSelection.BestValidation ? "best validation evaluation, its test score" : "train on all of train, test at the last step"),
            ("probe", (Family == RecipeFamily.Dcase2016Task2 ? "cgp: " : "") + $"{p.Steps} steps x batch {p.BatchSize}, warm-up {p.WarmupSteps}, lr {p.LearningRate:G3}, wd {p.WeightDecay:G3}, AdamW ({p.Beta1}, {p.Beta2})" +
                      (Family == RecipeFamily.Dcase2016Task2 && ProbingFor("lp") is var b ? $"; lp, lcgp, h2t, pb: {b.Steps} steps x batch {b.BatchSize}, warm-up {b.WarmupSteps}, head dropout 0" : "")),
            ("fine-tune", (Family == RecipeFamily.Dcase2016Task2 ? "not run on event tasks; official sed_finetune_config (scaled): " : "") + $"{f.Steps} steps x batch {f.BatchSize}, warm-up {f.WarmupSteps}, lr {f.LearningRate:G3}, layer decay {f.LayerDecay}, wd {f.WeightDecay}, AdamW ({f.Beta1}, {f.Beta2}), " +
                          $"drop path {f.DropPath}, head dropout {f.HeadDropout}, mixup {(f.MixupProbability > 0 ? $"p {f.MixupProbability} Beta({f.MixupAlpha}, {f.MixupAlpha})" : "off")}, " +
                          $"SpecAugment {(f.MaskRepeats > 0 ? $"{f.MaskRepeats} x (freq <= {f.FreqMaskBins} bins, time <= {f.TimeMaskFrames} frames)" : "off")}, " +
                          $"colour noise {(f.ColourNoiseChance > 0 ? $"p {f.ColourNoiseChance}" : "off")}, time roll {(f.TimeRoll ? "on" : "off")}"),
            ("scale", Scale.Describe()),
        ];
    }
}
