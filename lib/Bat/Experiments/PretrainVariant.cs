using Bat.Frontends;
using Bat.Model;
using Bat.Pretraining;

namespace Bat.Experiments;

/// <summary>How long and how big a pre-training run is (one per <see cref="Preset"/>; the notebooks read it from there, not from cells).</summary>
public sealed record PretrainPlan(
    int Steps, int Batch, int Clones, int WarmupSteps, double EmaStart, double EmaEnd, int EmaAnnealSteps, int CheckpointEvery, double LearningRate = 5e-4);

/// <summary>
/// One row of the EAT -> BAT ablation (docs/method.md section 3): which frontend, targets, attention and decoder.
/// The utterance weighting switches from EAT's fairseq-style sum to BAT's equal weights together with the
/// end-of-block targets, since both belong to BAT's objective.
/// </summary>
public sealed record PretrainVariant(string Name, string Frontend, TeacherTargetKind Targets, bool Gated, DecoderKind Decoder,
    UtteranceWeighting UtteranceWeighting, string Description)
{
    public static readonly IReadOnlyList<PretrainVariant> Ablation =
    [
        new("eat", "kaldi", TeacherTargetKind.Ffn, false, DecoderKind.Cnn, UtteranceWeighting.Fairseq, "EAT: kaldi fbank, FFN targets, CNN decoder"),
        new("bat-frontend", "bat", TeacherTargetKind.Ffn, false, DecoderKind.Cnn, UtteranceWeighting.Fairseq, "EAT + BAT frontend"),
        new("bat-eob", "bat", TeacherTargetKind.Eob, false, DecoderKind.Cnn, UtteranceWeighting.Equal, "+ end-of-block targets"),
        new("bat-cnn", "bat", TeacherTargetKind.Eob, true, DecoderKind.Cnn, UtteranceWeighting.Equal, "+ gated attention (BAT with EAT's CNN decoder)"),
        new("bat", "bat", TeacherTargetKind.Eob, true, DecoderKind.Vit, UtteranceWeighting.Equal, "+ ViT decoder = BAT"),
    ];

    public static PretrainVariant Named(string name) =>
        Ablation.FirstOrDefault(v => v.Name == name)
        ?? throw new BatException("variant", $"unknown variant '{name}' (expected {string.Join("|", Ablation.Select(v => v.Name))})");

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
            Steps = plan.Steps,
            Batch = plan.Batch,
            Clones = plan.Clones,
            WarmupSteps = plan.WarmupSteps,
            LearningRate = plan.LearningRate,
            EmaStart = plan.EmaStart,
            EmaEnd = plan.EmaEnd,
            EmaAnnealSteps = plan.EmaAnnealSteps,
            CheckpointEvery = plan.CheckpointEvery,
            Seed = seed,
        };
    }

    /// <summary>EAT's CNN decoder (the same at every size) or the preset's ViT decoder.</summary>
    DecoderConfig DecoderFor(Preset preset) => Decoder switch
    {
        DecoderKind.Cnn => new DecoderConfig { Kind = DecoderKind.Cnn },
        DecoderKind.Vit => preset.VitDecoder,
        _ => throw new BatException("decoder", $"unknown decoder {Decoder} (expected cnn|vit)"),
    };
}
