using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// The standard linear probe (LP): last layer's CLS -> LayerNorm -> Dropout -> Linear. Frame-wise (sound event
/// detection, the official LinearHead frame_wise_forward): the last layer's patch tokens averaged over frequency,
/// one prediction per time patch.
/// </summary>
public sealed class LinearProbe : Probe
{
    readonly LayerNorm norm;
    readonly Dropout dropout;
    readonly Linear classifier;

    /// <summary>The frequency patches of a frame-wise probe; null for the clip-level one.</summary>
    public int? FreqPatches { get; }

    public LinearProbe(int dim, int classes, double dropout = 0.2, int? freqPatches = null) : base(freqPatches is null ? "lp" : "lp-frame")
    {
        FreqPatches = freqPatches;
        norm = nn.LayerNorm(dim, NormEps);
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(dim, classes);
        RegisterComponents();
    }

    public override Tensor forward(LayerEmbeddings x)
    {
        using var scope = NewDisposeScope();
        var layers = FreqPatches is int f ? x.FrameMeans(f) : x.Cls;  // (B, L, D), or frame-wise (B, L, T, D)
        var last = layers.select(1, layers.shape[1] - 1);             // (B, D) or (B, T, D)
        return classifier.forward(dropout.forward(norm.forward(last))).MoveToOuterDisposeScope();  // (B, C) or (B, T, C)
    }

    public override bool UsesPatches => FreqPatches is not null;

    public override IEnumerable<Parameter> ClassifierWeights() { yield return classifier.weight!; }
}
