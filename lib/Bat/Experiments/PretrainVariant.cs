using Bat.Frontends;
using Bat.Model;
using Bat.Pretraining;

namespace Bat.Experiments;

/// <summary>How long and how big a pre-training run is (one per <see cref="Preset"/>; the notebooks read it from there, not from cells).</summary>
public sealed record PretrainPlan(
    int Steps, int Batch, int Clones, int WarmupSteps, double EmaStart, double EmaEnd, int EmaAnnealSteps, int CheckpointEvery, double LearningRate = 5e-4);

/// <summary>The ViT decoder's size in the paper's decoder ablation: Full (12 heads, MLP ratio 4 at ViT-B; the
/// preset's decoder) or Half (half the heads and MLP ratio 2: the paper's "6 heads, MLP 2" row).</summary>
public enum VitDecoderSize { Full, Half }

/// <summary>
/// One row of the EAT -> BAT ablation (docs/method.md section 3): which frontend, targets, attention, decoder and
/// utterance weighting. Every pre-trained row but <c>eat</c> differs from its <see cref="Parent"/> in exactly one
/// of these (a test checks it), so its margin over the parent measures one change: the paper's rows, plus the
/// utterance weighting (EAT's fairseq sum to BAT's mean) as a row of its own between the gate and the decoder rows.
/// </summary>
/// <param name="Parent">the row this one changes one thing of (null for eat and the control)</param>
/// <param name="SpreadWeight">weight of the spread term against dimensional collapse (<see cref="Levers"/>; the papers: 0)</param>
/// <param name="CentreTargets">subtract the batch's mean target per patch position (<see cref="LeverOverrides"/>; the papers: false)</param>
/// <param name="ClipFrames">frames kept of each pre-training clip, drawn from in windows of the input's length
/// (PretrainConfig.ClipFrames, <see cref="LeverOverrides"/>; 0: the clip's start, as the papers' whole-clip input)</param>
/// <param name="SpreadNormalised">the spread term reads the CLS and mean token after a gain-free LayerNorm, as LP's head
/// does (PretrainConfig.SpreadNormalised, <see cref="LeverOverrides"/>; false: as the last block outputs them)</param>
public sealed record PretrainVariant(string Name, string Frontend, TeacherTargetKind Targets, bool Gated, DecoderKind Decoder,
    UtteranceWeighting UtteranceWeighting, string Description, string? Parent = null, VitDecoderSize DecoderSize = VitDecoderSize.Full,
    double SpreadWeight = 0, bool CentreTargets = false, int ClipFrames = 0, bool SpreadNormalised = false)
{
    /// <summary>In the paper's order: frontend, then targets x gate, then weighting and decoder.</summary>
    public static readonly IReadOnlyList<PretrainVariant> Ablation =
    [
        new("eat", "kaldi", TeacherTargetKind.Ffn, false, DecoderKind.Cnn, UtteranceWeighting.Fairseq, "EAT: kaldi fbank, FFN targets, CNN decoder"),
        new("bat-frontend", "bat", TeacherTargetKind.Ffn, false, DecoderKind.Cnn, UtteranceWeighting.Fairseq, "+ BAT frontend", "eat"),
        new("bat-eob", "bat", TeacherTargetKind.Eob, false, DecoderKind.Cnn, UtteranceWeighting.Fairseq, "+ end-of-block targets (no gate)", "bat-frontend"),
        new("bat-ffn-gate", "bat", TeacherTargetKind.Ffn, true, DecoderKind.Cnn, UtteranceWeighting.Fairseq, "+ gated attention (FFN targets)", "bat-frontend"),
        new("bat-gate", "bat", TeacherTargetKind.Eob, true, DecoderKind.Cnn, UtteranceWeighting.Fairseq, "+ gated attention (end-of-block targets)", "bat-eob"),
        new("bat-cnn", "bat", TeacherTargetKind.Eob, true, DecoderKind.Cnn, UtteranceWeighting.Equal, "+ equal utterance weighting (BAT with EAT's CNN decoder)", "bat-gate"),
        new("bat-vit-half", "bat", TeacherTargetKind.Eob, true, DecoderKind.Vit, UtteranceWeighting.Equal, "+ ViT decoder, half heads, MLP 2", "bat-cnn", VitDecoderSize.Half),
        new("bat", "bat", TeacherTargetKind.Eob, true, DecoderKind.Vit, UtteranceWeighting.Equal, "+ full ViT decoder = BAT", "bat-vit-half"),
    ];

    /// <summary>
    /// Recipes beyond the papers, each one change to BAT found by measurement against the untrained control
    /// (docs/method.md section 7). bat-spread adds the spread term (VICReg's variance and covariance terms on the
    /// student's CLS and mean token): every pre-training measured without it folds the clips onto a few directions
    /// (effective rank of the CLS 17 untrained, 2-5 after 600 updates), and with it the rank stays up.
    /// </summary>
    public static readonly IReadOnlyList<PretrainVariant> Levers =
    [
        new("bat-spread", "bat", TeacherTargetKind.Eob, true, DecoderKind.Vit, UtteranceWeighting.Equal,
            "+ spread term against dimensional collapse (beyond the papers)", "bat", SpreadWeight: 3),
    ];

    /// <summary>
    /// The control every result is read against: BAT's shape, config and seed with its initial weights and no
    /// update (a step-0 checkpoint). A pre-trained variant is worth only its margin over the control of its own shape.
    /// </summary>
    public static readonly PretrainVariant Untrained =
        new("untrained", "bat", TeacherTargetKind.Eob, true, DecoderKind.Vit, UtteranceWeighting.Equal, "control: BAT's shape and seed, initial weights, no update");

    /// <summary>
    /// The controls of the other encoder shapes in the ablation. What an encoder is at step 0 depends on its input
    /// features (frontend) and its attention (gate), not on the targets, decoder or loss weighting; and it matters:
    /// untrained, EAT's shape (kaldi fbank, plain attention) reads the embedded benchmark at CGP 51.0 mAP where BAT's
    /// reads 43.1 (docs/learning-experiments.csv), so eat read against BAT's control would look 8 points better than it is.
    /// </summary>
    public static readonly PretrainVariant UntrainedEat =
        new("untrained-eat", "kaldi", TeacherTargetKind.Ffn, false, DecoderKind.Cnn, UtteranceWeighting.Fairseq, "control: EAT's shape (kaldi fbank, no gate), initial weights, no update");
    public static readonly PretrainVariant UntrainedNoGate =
        new("untrained-nogate", "bat", TeacherTargetKind.Eob, false, DecoderKind.Cnn, UtteranceWeighting.Fairseq, "control: BAT frontend without the gate, initial weights, no update");

    public static IReadOnlyList<PretrainVariant> Controls { get; } = [Untrained, UntrainedEat, UntrainedNoGate];

    /// <summary>Every variant with updates to train: the ablation, then the levers.</summary>
    public static IReadOnlyList<PretrainVariant> Trainable { get; } = [.. Ablation, .. Levers];

    /// <summary>The controls first, then every trainable variant: what notebook 02 trains (declared after
    /// <see cref="Trainable"/>: static initialisers run in order).</summary>
    public static IReadOnlyList<PretrainVariant> WithControl { get; } = [.. Controls, .. Trainable];

    /// <summary>The papers' two models and the levers: the variants notebook 02's learning curve and `bat bench learn` follow.</summary>
    public static IReadOnlyList<string> Followed { get; } = ["eat", "bat", .. Levers.Select(v => v.Name)];

    public bool IsControl => IsControlName(Name);

    public static bool IsControlName(string model) => Controls.Any(c => c.Name == model);

    /// <summary>The control of a model's encoder shape (same frontend and gate); BAT's for a model that is not one
    /// of the named variants (a checkpoint of its own, say).</summary>
    public static string ControlOf(string model)
    {
        var variant = WithControl.FirstOrDefault(v => v.Name == model);
        if (variant is null) return Untrained.Name;
        return Controls.First(c => c.Frontend == variant.Frontend && c.Gated == variant.Gated).Name;
    }

    public static PretrainVariant Named(string name) =>
        WithControl.FirstOrDefault(v => v.Name == name)
        ?? throw new BatException("variant", $"unknown variant '{name}' (expected {string.Join("|", WithControl.Select(v => v.Name))})");

    /// <summary>The full run config for this variant under a preset (frontend: see PretrainData.FrontendFor).</summary>
    public PretrainConfig Config(Preset preset, FrontendConfig frontend, long seed = 0)
    {
        var plan = preset.Pretraining;
        return new()
        {
            Frontend = frontend,
            Preset = preset.Name,
            Variant = Name,
            Encoder = preset.Encoder with { Gated = Gated },
            Decoder = DecoderFor(preset),
            Targets = Targets,
            UtteranceWeighting = UtteranceWeighting,
            Steps = IsControl ? 0 : plan.Steps,
            Batch = plan.Batch,
            Clones = plan.Clones,
            WarmupSteps = plan.WarmupSteps,
            LearningRate = plan.LearningRate,
            EmaStart = plan.EmaStart,
            EmaEnd = plan.EmaEnd,
            EmaAnnealSteps = plan.EmaAnnealSteps,
            CheckpointEvery = plan.CheckpointEvery,
            SpreadWeight = SpreadWeight,
            SpreadNormalised = SpreadNormalised,
            CentreTargets = CentreTargets,
            ClipFrames = ClipFrames,
            Seed = seed,
        };
    }

    /// <summary>EAT's CNN decoder (the same at every size) or the preset's ViT decoder (full or half).</summary>
    DecoderConfig DecoderFor(Preset preset) => (Decoder, DecoderSize) switch
    {
        (DecoderKind.Cnn, _) => new DecoderConfig { Kind = DecoderKind.Cnn },
        (DecoderKind.Vit, VitDecoderSize.Full) => preset.VitDecoder,
        // The paper's 6-head, MLP-2 decoder is half of its 12-head, MLP-4 one; at our sizes half the preset's.
        (DecoderKind.Vit, VitDecoderSize.Half) => preset.VitDecoder with { Heads = Math.Max(1, preset.VitDecoder.Heads / 2), MlpRatio = 2 },
        _ => throw new BatException("decoder", $"unknown decoder {Decoder} (expected cnn|vit)"),
    };
}
