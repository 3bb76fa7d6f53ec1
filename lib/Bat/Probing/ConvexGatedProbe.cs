using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// Convex Gated Probing (CGP), the paper's probe. All frozen layers are mixed with a learned convex gate and
/// the mix is compared against K learned prototypes:
///   z_l, o_l  <- L2-normalised patch tokens / CLS of layer l
///   alpha     =  softmax(a)                      (a: L gate logits, init ones)
///   zbar      =  sum_l alpha_l z_l               (N x D; a convex mix, deliberately not renormalised)
///   obar      =  sum_l alpha_l o_l               (D)
///   s_z       =  zbar P^T,  s_o = obar P^T       (P: K L2-normalised prototypes)
///   features  =  [min_n s_z, s_o, max_n s_z]_k   (3K, prototype-major: feature 3k + j is pooling j of
///                                                  prototype k; the no-CLS variant pools [min, mean, max])
///   logits    =  Linear(Dropout(features))
/// The official head (houtan-ghaffari/BAT_ICML2026 models/heads.py CGP, head_dropout 0.2); the feature order is
/// its torch.stack(..., dim=-1).reshape, so its classifier weights load unchanged.
/// </summary>
public sealed class ConvexGatedProbe : Probe
{
    readonly Parameter gate;         // (L) logits of the convex layer weights
    readonly Parameter prototypes;   // (K, D), normalised at use so only their direction matters
    readonly Dropout dropout;
    readonly Linear classifier;      // 3K -> C

    public bool UseCls { get; }
    public int Prototypes { get; }

    public ConvexGatedProbe(int layers, int dim, int prototypes, int classes, bool useCls = true, double dropout = 0.2)
        : base(useCls ? "cgp" : "cgp-nocls")
    {
        UseCls = useCls;
        Prototypes = prototypes;
        (gate, this.prototypes, this.dropout, classifier) = NewHead(layers, dim, prototypes, classes, dropout);
        RegisterComponents();
    }

    /// <summary>The parameters of a CGP head, initialised as the official CGP does (shared with
    /// <see cref="FrameConvexGatedProbe"/>): gate logits at ones, K prototypes from N(0, 0.02^2), dropout, and the
    /// 3K -> C classifier.</summary>
    internal static (Parameter Gate, Parameter Prototypes, Dropout Dropout, Linear Classifier) NewHead(
        int layers, int dim, int prototypes, int classes, double dropout) =>
        (new Parameter(ones(layers)), new Parameter(normal(0, 0.02, new long[] { prototypes, dim })),
         nn.Dropout(dropout), nn.Linear(3 * prototypes, classes, hasBias: true));

    public override bool UsesPatches => true;

    /// <summary>The convex mix sum_l alpha_l x_l of L2-normalised tokens: (B, L, ..., D) -> (B, ..., D).</summary>
    public Tensor MixLayers(Tensor perLayer) => MixLayers(gate, perLayer);

    /// <summary>The convex mix with the gate logits <paramref name="gate"/> (L) (shared with <see cref="FrameConvexGatedProbe"/>).</summary>
    internal static Tensor MixLayers(Parameter gate, Tensor perLayer)
    {
        using var scope = NewDisposeScope();
        var alpha = gate.softmax(0);                                          // (L)
        var unit = nn.functional.normalize(perLayer, p: 2, dim: -1);
        long b = perLayer.shape[0], l = perLayer.shape[1];
        // As one (1, L) x (L, rest) product per clip: no (B, L, ..., D) temporary for alpha-weighted copies.
        var mixed = matmul(alpha.view(1, 1, l), unit.reshape(b, l, -1));      // (B, 1, rest)
        return mixed.view(perLayer.shape.Where((_, i) => i != 1).ToArray()).MoveToOuterDisposeScope();  // (B, ..., D)
    }

    /// <summary>The 3K pooled prototype similarities before dropout: (B, 3K), prototype-major.</summary>
    public Tensor PooledFeatures(LayerEmbeddings x)
    {
        using var scope = NewDisposeScope();
        var p = nn.functional.normalize(prototypes, p: 2, dim: -1);  // (K, D)
        var zbar = MixLayers(x.Patches);                              // (B, L, N, D) -> (B, N, D)
        var sz = matmul(zbar, p.t());                                 // (B, N, K)
        // min/max with indices rather than amin/amax: the same values, but the backward scatters into the one
        // selected token instead of comparing all of (B, N, K) against the result. `bat bench probe` times both:
        // 1.3x faster at K = 1024, 0.6-0.9x at K <= 256 where the whole step is cheap. Ties, which amax would
        // split, have probability zero for real-valued similarities.
        var low = sz.min(1).values;                                   // (B, K): the least similar token
        var high = sz.max(1).values;                                  // (B, K): the most similar token
        Tensor middle;
        if (UseCls)
        {
            var obar = MixLayers(x.Cls);                              // (B, L, D) -> (B, D)
            middle = matmul(obar, p.t());                             // (B, K)
        }
        else middle = sz.mean(new long[] { 1 });                      // (B, K)
        return stack(new[] { low, middle, high }, -1).view(low.shape[0], -1).MoveToOuterDisposeScope();  // (B, K, 3) -> (B, 3K)
    }

    public override Tensor forward(LayerEmbeddings x)
    {
        using var features = PooledFeatures(x);
        using var dropped = dropout.forward(features);
        return classifier.forward(dropped);                          // (B, C)
    }

    public override IEnumerable<Parameter> ClassifierWeights() { yield return classifier.weight!; }

    public override float[] GateWeights() => Softmax(gate);

    /// <summary>Sets the gate logits (tests and analysis).</summary>
    public void SetGateLogits(float[] logits)
    {
        using var _ = no_grad();
        using var value = tensor(logits);
        gate.copy_(value);
    }
}
