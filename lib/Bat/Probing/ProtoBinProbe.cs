using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// ProtoBin (PB) baseline: K prototypes whose forward value is sign-binarised (entries +-1/sqrt(D), unit
/// norm), compared with the L2-normalised patch tokens of the last layer only; max over tokens per prototype
/// -> Dropout -> Linear. sign() has zero gradient almost everywhere, so the binarisation uses the
/// straight-through estimator: forward sign(P), backward as if it were P.
/// </summary>
public sealed class ProtoBinProbe : Probe
{
    readonly Parameter prototypes;   // (K, D) real-valued latent weights
    readonly Dropout dropout;
    readonly Linear classifier;      // K -> C

    public ProtoBinProbe(int dim, int prototypes, int classes, double dropout = 0.2) : base("pb")
    {
        this.prototypes = new Parameter(normal(0, 0.02, new long[] { prototypes, dim }));
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(prototypes, classes);
        RegisterComponents();
    }

    public override bool UsesPatches => true;

    /// <summary>sign(P)/sqrt(D) in the forward pass, identity gradient to P in the backward pass.</summary>
    public Tensor BinarisedPrototypes()
    {
        using var scope = NewDisposeScope();
        using Scalar scale = 1.0 / Math.Sqrt(prototypes.shape[1]);   // kept alive: see ScalarLifetimeGuardTests
        var binary = prototypes.sign().mul(scale);
        // P + (sign(P)/sqrt(D) - P).detach(): value of the binary code, gradient of P.
        return (prototypes + (binary - prototypes).detach()).MoveToOuterDisposeScope();
    }

    public override Tensor forward(LayerEmbeddings x)
    {
        using var scope = NewDisposeScope();
        var last = x.Patches.select(1, x.Patches.shape[1] - 1);         // (B, L, N, D) -> (B, N, D)
        var z = nn.functional.normalize(last, p: 2, dim: -1);
        var s = matmul(z, BinarisedPrototypes().t());                   // (B, N, K)
        var pooled = s.max(1).values;                                   // (B, K); max with indices: see ConvexGatedProbe
        return classifier.forward(dropout.forward(pooled)).MoveToOuterDisposeScope();  // (B, C)
    }

    public override IEnumerable<Parameter> ClassifierWeights() { yield return classifier.weight!; }
}
