namespace Bat.Probing;

/// <summary>The probe names the CLI and notebooks accept, and the factory that builds them.</summary>
public static class ProbeCatalog
{
    /// <summary>Probes trained on frozen cached features.</summary>
    public static readonly string[] Frozen = ["cgp", "cgp-nocls", "lp", "lcgp", "h2t", "pb", "layer-lp"];

    /// <summary>Full fine-tuning of the encoder (the upper reference; needs audio, not the cache).</summary>
    public const string FineTune = "finetune";

    public static IReadOnlyList<string> All => [.. Frozen, FineTune];

    /// <summary>Whether the probe has K prototypes (so K is part of its identity in results).</summary>
    public static bool UsesPrototypes(string probe) => probe is "cgp" or "cgp-nocls" or "cgp-frame" or "pb" or "pb-frame";

    /// <summary>The probes of a sound event detection task: the frame-wise heads of the official DCASE 2016 task 2 configs.</summary>
    public static readonly string[] FrameWise = ["cgp", "lp", "lcgp", "h2t", "pb"];

    /// <summary>The head dropout of the official SED baselines (sed_{lp,lcgp,h2t,pb}_config.yaml: head_dropout 0.0; CGP's is 0.2).</summary>
    public const double FrameBaselineDropout = 0.0;

    /// <summary>
    /// The frame-wise variant of <paramref name="probe"/> for a sound event detection task (one prediction per time
    /// patch; <paramref name="freqPatches"/> is the encoder grid's frequency size).
    /// </summary>
    public static Probe CreateFrameWise(string probe, int layers, int dim, int classes, int prototypes, int freqPatches) => probe switch
    {
        "cgp" => new FrameConvexGatedProbe(layers, dim, prototypes, classes, freqPatches),
        "lp" => new LinearProbe(dim, classes, FrameBaselineDropout, freqPatches),
        "lcgp" => new LayerGatedClsProbe(layers, dim, classes, FrameBaselineDropout, freqPatches),
        "h2t" => new Head2ToeProbe(layers, dim, classes, dropout: FrameBaselineDropout, freqPatches: freqPatches),
        "pb" => new ProtoBinProbe(dim, prototypes, classes, FrameBaselineDropout, freqPatches),
        _ => throw new BatException("--probe", $"'{probe}' has no frame-wise variant for sound event detection (event tasks take: {string.Join("|", FrameWise)})"),
    };

    /// <summary>The probe a task trains: the frame-wise variant on a sound event detection task, else the clip-level one.</summary>
    public static Probe CreateFor(ProbeTask task, string probe, int prototypes) =>
        task.Events is { } sed ? CreateFrameWise(probe, task.Layers, task.Dim, task.Classes, prototypes, sed.FreqPatches)
        : Create(probe, task.Layers, task.Dim, task.Classes, prototypes);

    public static Probe Create(string probe, int layers, int dim, int classes, int prototypes) => probe switch
    {
        "cgp" => new ConvexGatedProbe(layers, dim, prototypes, classes),
        "cgp-nocls" => new ConvexGatedProbe(layers, dim, prototypes, classes, useCls: false),
        "lp" => new LinearProbe(dim, classes),
        "lcgp" => new LayerGatedClsProbe(layers, dim, classes),
        "h2t" => new Head2ToeProbe(layers, dim, classes),
        "pb" => new ProtoBinProbe(dim, prototypes, classes),
        "layer-lp" => new LayerwiseLinearProbe(layers, dim, classes),
        FineTune => throw new ArgumentException("finetune trains the encoder itself: use FineTuner, not a frozen probe"),
        _ => throw new ArgumentException($"unknown probe '{probe}' (one of {string.Join("|", All)})"),
    };
}
