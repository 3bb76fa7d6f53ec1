using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// LCGP baseline, as the official head (houtan-ghaffari/BAT_ICML2026 models/heads.py LinearCGP with the probing
/// configs' head_norm and head_dropout 0.2): a softmax-gated sum of every layer's CLS (gate logits init 0, a
/// uniform mix at start) -> LayerNorm -> Dropout -> Linear. CGP without prototypes and patch tokens. Frame-wise
/// (frame_wise_forward): the gate mixes every layer's patch tokens averaged over frequency, one prediction per time patch.
/// </summary>
public sealed class LayerGatedClsProbe : Probe
{
    readonly Parameter gate;   // (L)
    readonly LayerNorm norm;
    readonly Dropout dropout;
    readonly Linear classifier;

    /// <summary>The frequency patches of a frame-wise probe; null for the clip-level one.</summary>
    public int? FreqPatches { get; }

    public LayerGatedClsProbe(int layers, int dim, int classes, double dropout = 0.2, int? freqPatches = null) : base(freqPatches is null ? "lcgp" : "lcgp-frame")
    {
        FreqPatches = freqPatches;
        gate = new Parameter(zeros(layers));
        norm = nn.LayerNorm(dim, NormEps);
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(dim, classes);
        RegisterComponents();
    }

    public override Tensor forward(LayerEmbeddings x)
    {
        using var scope = NewDisposeScope();
        var layers = FreqPatches is int f ? x.FrameMeans(f) : x.Cls;                        // (B, L, D) or (B, L, T, D)
        var alpha = gate.softmax(0).view(layers.dim() == 4 ? new long[] { 1, -1, 1, 1 } : new long[] { 1, -1, 1 });
        var mixed = (layers * alpha).sum(1);                                                  // (B, D) or (B, T, D)
        return classifier.forward(dropout.forward(norm.forward(mixed))).MoveToOuterDisposeScope();  // (B, C) or (B, T, C)
    }

    public override bool UsesPatches => FreqPatches is not null;

    public override IEnumerable<Parameter> ClassifierWeights() { yield return classifier.weight!; }

    public override float[] GateWeights() => Softmax(gate);
}
