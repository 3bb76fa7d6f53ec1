using Bat.Frontends;
using Bat.Model;

namespace Bat.Pretraining;

/// <summary>
/// How long and how big a pre-training run is for each preset (the notebooks read it from here, not from
/// cells). smoke: every ablation variant in about 12 s in total on 2 cores (CI); tiny: about 4 minutes (measured);
/// small: an hour-scale CPU run; base: the paper (48 clips x 16 clones, 400k updates, EMA over 100k).
/// Short runs use a faster EMA so that the teacher moves at all within them.
/// </summary>
public sealed record PretrainPlan(
    string Preset, int Steps, int Batch, int Clones, int WarmupSteps,
    double EmaStart, double EmaEnd, int EmaAnnealSteps, int CheckpointEvery, int SynthClips, double LearningRate = 5e-4)
{
    public static PretrainPlan For(string preset) => preset.ToLowerInvariant() switch
    {
        "smoke" => new("smoke", Steps: 12, Batch: 4, Clones: 2, WarmupSteps: 3, EmaStart: 0.99, EmaEnd: 0.999, EmaAnnealSteps: 12,
            CheckpointEvery: 0, SynthClips: 48),
        "tiny" => new("tiny", Steps: 200, Batch: 8, Clones: 4, WarmupSteps: 20, EmaStart: 0.996, EmaEnd: 0.9995, EmaAnnealSteps: 200,
            CheckpointEvery: 100, SynthClips: 400),
        "small" => new("small", Steps: 3000, Batch: 16, Clones: 8, WarmupSteps: 300, EmaStart: 0.999, EmaEnd: 0.9999, EmaAnnealSteps: 3000,
            CheckpointEvery: 500, SynthClips: 2000),
        "base" => new("base", Steps: 400_000, Batch: 48, Clones: 16, WarmupSteps: 53_333, EmaStart: 0.9998, EmaEnd: 0.99999,
            EmaAnnealSteps: 100_000, CheckpointEvery: 5000, SynthClips: 2000),
        _ => throw new BatException("preset", $"unknown preset '{preset}' (expected smoke|tiny|small|base)"),
    };
}

/// <summary>
/// One row of the EAT -> BAT ablation (DESIGN.md section 1): which frontend, targets, attention and decoder.
/// The utterance weighting switches from EAT's fairseq-style sum to BAT's equal weights together with the
/// end-of-block targets, since both belong to BAT's objective.
/// </summary>
public sealed record PretrainVariant(string Name, string Frontend, string Targets, bool Gated, string Decoder, string UtteranceWeighting, string Description)
{
    public static readonly IReadOnlyList<PretrainVariant> Ablation =
    [
        new("eat", "kaldi", "ffn", false, "cnn", "fairseq", "EAT: kaldi fbank, FFN targets, CNN decoder"),
        new("bat-frontend", "bat", "ffn", false, "cnn", "fairseq", "EAT + BAT frontend"),
        new("bat-eob", "bat", "eob", false, "cnn", "equal", "+ end-of-block targets"),
        new("bat-cnn", "bat", "eob", true, "cnn", "equal", "+ gated attention (BAT with EAT's CNN decoder)"),
        new("bat", "bat", "eob", true, "vit", "equal", "+ ViT decoder = BAT"),
    ];

    public static PretrainVariant Named(string name) =>
        Ablation.FirstOrDefault(v => v.Name == name)
        ?? throw new BatException("variant", $"unknown variant '{name}' (expected {string.Join("|", Ablation.Select(v => v.Name))})");

    /// <summary>The full run config for this variant under a preset's plan (frontend: see PretrainData.FrontendFor).</summary>
    public PretrainConfig Config(PretrainPlan plan, FrontendConfig frontend, long seed = 0) => new()
    {
        Frontend = frontend,
        Preset = plan.Preset,
        Variant = Name,
        Encoder = EncoderConfig.For(plan.Preset) with { Gated = Gated },
        Decoder = DecoderConfig.For(Decoder, plan.Preset),
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
