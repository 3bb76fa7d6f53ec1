using Bat.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// Full fine-tuning, the upper reference the probes are measured against, as the official configs
/// (configs/*/..._finetune_config.yaml): AdamW (0.9, 0.95), layer-wise lr decay 0.75, weight decay 0.05, drop path
/// 0.1 (linear over the blocks), head CLS -> LayerNorm -> dropout -> Linear, mixup (p 0.9, Beta(0.8, 0.8)) only on
/// multi-label tasks, SpecAugment as torchaudio's iid FrequencyMasking / TimeMasking (a mask of width uniform in
/// [0, param) per clip, zero-filled) repeated <see cref="MaskRepeats"/> times. The per-task values come from
/// <see cref="TaskRecipe.OfficialFineTuning"/>; short CPU schedules raise the lr (<see cref="RecipeScale"/>).
/// </summary>
public sealed record FineTuneConfig(
    int Steps,
    int BatchSize,
    int WarmupSteps,
    int EvaluateEvery,
    double LearningRate = 5e-5,
    double MinLearningRate = 1e-6,
    double LayerDecay = 0.75,
    double WeightDecay = 0.05,
    double Beta1 = 0.9,
    double Beta2 = 0.95,
    double DropPath = 0.1,
    double HeadDropout = 0.2,
    double MixupProbability = 0.9,
    double MixupAlpha = 0.8,
    int FreqMaskBins = 16,
    int TimeMaskFrames = 64,
    int MaskRepeats = 2,
    double ColourNoiseChance = 0,
    bool TimeRoll = false,
    int EvalBatchSize = 16,
    long Seed = 0)
{
    /// <summary>Whether any input augmentation is on (SpecAugment, colour noise, time roll; mixup is <see cref="MixupProbability"/>).</summary>
    public bool Augments => (FreqMaskBins > 0 || TimeMaskFrames > 0) && MaskRepeats > 0 || ColourNoiseChance > 0 || TimeRoll;

    /// <summary>The same schedule without SpecAugment, colour noise or the time roll (mixup kept as it is).</summary>
    public FineTuneConfig WithoutAugmentation() => this with { MaskRepeats = 0, ColourNoiseChance = 0, TimeRoll = false };

    /// <summary>The same schedule with <paramref name="official"/>'s SpecAugment repeats, colour noise and time roll (the mask sizes kept as scaled).</summary>
    public FineTuneConfig WithAugmentationOf(FineTuneConfig official) =>
        this with { MaskRepeats = official.MaskRepeats, ColourNoiseChance = official.ColourNoiseChance, TimeRoll = official.TimeRoll };

    public FineTuneConfig WithSteps(int steps) => this with
    {
        Steps = steps,
        WarmupSteps = Math.Max(1, Math.Min(WarmupSteps, steps / 10)),
        EvaluateEvery = EvaluateEvery >= Steps ? steps : Math.Max(1, steps / 4),
    };
}

/// <summary>
/// The encoder, unfrozen, with a classifier on the last block's CLS: CLS -> LayerNorm -> dropout -> Linear (the
/// official LinearHead with head_norm), and drop path rising linearly to <paramref name="dropPath"/> over the blocks.
/// </summary>
public sealed class FineTuneModel : nn.Module<Tensor, Tensor>
{
    readonly Encoder encoder;
    readonly LayerNorm norm;
    readonly Dropout dropout;
    readonly Linear head;

    public FineTuneModel(Encoder encoder, int classes, double headDropout = 0, double dropPath = 0) : base("finetune")
    {
        this.encoder = encoder;
        norm = nn.LayerNorm(encoder.Config.Dim, Probe.NormEps);
        dropout = nn.Dropout(headDropout);
        head = nn.Linear(encoder.Config.Dim, classes);
        RegisterComponents();
        encoder.SetDropPath(dropPath);
        foreach (var p in parameters()) p.requires_grad = true;
    }

    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        using var output = encoder.Forward(features);
        var cls = output.Last.select(1, 0);                                                      // (B, 1+N, D) -> (B, D)
        return head.forward(dropout.forward(norm.forward(cls))).MoveToOuterDisposeScope();      // (B, C)
    }

    /// <summary>
    /// AdamW groups with layer-wise lr decay, as the official param_groups_lrd (houtan-ghaffari/BAT_ICML2026
    /// engine/optim.py): block i (0-based) gets decay^(depth - i), the patch embedding and CLS decay^(depth + 1),
    /// everything else the full lr - the head, and also the input LayerNorm (pre_norm), which the official
    /// get_layer_id_for_vit does not list and so puts with the head. Weight decay only on matrices (no biases,
    /// norms, CLS).
    /// </summary>
    public List<(List<Parameter> Parameters, double Scale, double WeightDecay)> LayerwiseGroups(double layerDecay, double weightDecay)
    {
        int depth = encoder.Config.Depth;
        var groups = new Dictionary<(int Depth, bool Decay), List<Parameter>>();
        foreach (var (name, p) in named_parameters())
        {
            int layer = name.StartsWith("encoder.blocks.") ? int.Parse(name.Split('.')[2]) + 1
                : name.StartsWith("encoder.patch_embed.") || name == "encoder.cls_token" ? 0
                : depth + 1;
            bool decay = p.dim() >= 2 && !name.EndsWith("cls_token");
            var key = (layer, decay);
            if (!groups.TryGetValue(key, out var list)) groups[key] = list = [];
            list.Add(p);
        }
        return groups.Select(kv => (kv.Value, Math.Pow(layerDecay, depth + 1 - kv.Key.Depth), kv.Key.Decay ? weightDecay : 0.0)).ToList();
    }
}

