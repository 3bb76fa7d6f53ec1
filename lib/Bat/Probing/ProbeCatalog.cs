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
    public static bool UsesPrototypes(string probe) => probe is "cgp" or "cgp-nocls" or "pb";

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
