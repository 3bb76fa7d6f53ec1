using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// ProtoBin (PB) baseline, as the official head (houtan-ghaffari/BAT_ICML2026 models/heads.py Protobin, head_dropout
/// 0.2): K prototypes binarised to +-1 (+1 where P &gt;= 0) and L2-normalised (entries +-1/sqrt(D)), compared with
/// the L2-normalised patch tokens of the last layer only; max over tokens per prototype -> Dropout -> Linear. The
/// sign has zero gradient almost everywhere, so the binarisation uses the straight-through estimator
/// b = sign(P) + (P - P.detach()): forward the sign, backward the identity; the normalisation comes after it, so
/// the gradient reaching P is the normalisation's Jacobian at the binary code applied to the incoming gradient.
/// Frame-wise (frame_wise_task): the max is over the frequency patches of each time patch, one prediction per time patch.
/// </summary>
public sealed class ProtoBinProbe : Probe
{
    readonly Parameter prototypes;   // (K, D) real-valued latent weights
    readonly Dropout dropout;
    readonly Linear classifier;      // K -> C

    /// <summary>The frequency patches of a frame-wise probe; null for the clip-level one.</summary>
    public int? FreqPatches { get; }

    public ProtoBinProbe(int dim, int prototypes, int classes, double dropout = 0.2, int? freqPatches = null) : base(freqPatches is null ? "pb" : "pb-frame")
    {
        if (freqPatches is < 1) throw new ArgumentException($"frequency patches {freqPatches} must be at least 1");
        FreqPatches = freqPatches;
        this.prototypes = new Parameter(normal(0, 0.02, new long[] { prototypes, dim }));
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(prototypes, classes);
        RegisterComponents();
    }

    public override bool UsesPatches => true;

    /// <summary>normalize(sign(P) + (P - P.detach())): the unit binary codes (K, D), values +-1/sqrt(D), with the
    /// straight-through gradient passing through the normalisation to P.</summary>
    public Tensor BinarisedPrototypes()
    {
        using var scope = NewDisposeScope();
        var sign = prototypes.ge(Zero).to_type(prototypes.dtype).mul(Two).sub(One);   // +1 / -1, +1 at 0 as the official (x >= 0)
        var straightThrough = sign.add(prototypes - prototypes.detach(), One);   // value sign(P), gradient of P
        return nn.functional.normalize(straightThrough, p: 2, dim: -1).MoveToOuterDisposeScope();
    }

    static readonly Scalar Zero = 0.0, One = 1.0, Two = 2.0;   // kept Scalars: see ScalarLifetimeGuardTests

    public override Tensor forward(LayerEmbeddings x)
    {
        using var scope = NewDisposeScope();
        var last = x.Patches.select(1, x.Patches.shape[1] - 1);         // (B, L, N, D) -> (B, N, D)
        var z = nn.functional.normalize(last, p: 2, dim: -1);
        var s = matmul(z, BinarisedPrototypes().t());                   // (B, N, K)
        var pooled = FreqPatches is int f
            ? s.view(s.shape[0], -1, f, s.shape[2]).max(2).values       // (B, T, F, K) -> (B, T, K)
            : s.max(1).values;                                          // (B, K); max with indices: see ConvexGatedProbe
        return classifier.forward(dropout.forward(pooled)).MoveToOuterDisposeScope();  // (B, C) or (B, T, C)
    }

    public override IEnumerable<Parameter> ClassifierWeights() { yield return classifier.weight!; }
}
