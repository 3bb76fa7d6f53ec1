using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// Frame-wise Convex Gated Probing, for sound event detection: <see cref="ConvexGatedProbe"/> with its pooling over
/// frequency only, so it predicts every time patch (the official CGP frame_wise_forward, models/heads.py, as
/// configs/dcase2016_task2/sed_cgp_config.yaml builds it: frame_wise_task true, head_dropout 0.2):
///   zbar      =  sum_l alpha_l z_l                       (T x F x D; z_l the L2-normalised patch tokens of layer l)
///   s         =  zbar P^T                                (T x F x K; P the K L2-normalised prototypes)
///   features  =  [min_f s, mean_f s, max_f s]_k per t     (T x 3K, prototype-major, as the official stack + reshape)
///   logits    =  Linear(Dropout(features))               (T x C)
/// The CLS tokens are not used. Parameters are named as <see cref="ConvexGatedProbe"/>'s (gate, prototypes,
/// classifier) and initialised alike; only the classifier's weights take weight decay.
/// </summary>
public sealed class FrameConvexGatedProbe : Probe
{
    readonly Parameter gate;         // (L) logits of the convex layer weights, init ones
    readonly Parameter prototypes;   // (K, D), normalised at use
    readonly Dropout dropout;
    readonly Linear classifier;      // 3K -> C, applied per time patch

    /// <summary>Frequency patches of the encoder's grid: the patch tokens are time-major (token t * F + f).</summary>
    public int FreqPatches { get; }
    public int Prototypes { get; }

    public FrameConvexGatedProbe(int layers, int dim, int prototypes, int classes, int freqPatches, double dropout = 0.2)
        : base("cgp-frame")
    {
        if (freqPatches < 1) throw new ArgumentException($"frequency patches {freqPatches} must be at least 1");
        FreqPatches = freqPatches;
        Prototypes = prototypes;
        (gate, this.prototypes, this.dropout, classifier) = ConvexGatedProbe.NewHead(layers, dim, prototypes, classes, dropout);
        RegisterComponents();
    }

    public override bool UsesPatches => true;

    /// <summary>The per-patch pooled similarities before dropout: (B, T, 3K), prototype-major.</summary>
    public Tensor PooledFeatures(LayerEmbeddings x)
    {
        using var scope = NewDisposeScope();
        long b = x.Patches.shape[0], n = x.Patches.shape[2];
        if (n % FreqPatches != 0) throw new ArgumentException($"{n} patch tokens are not a whole number of time patches of {FreqPatches} frequency patches");
        long t = n / FreqPatches;
        var p = nn.functional.normalize(prototypes, p: 2, dim: -1);                    // (K, D)
        var zbar = ConvexGatedProbe.MixLayers(gate, x.Patches);                          // (B, L, N, D) -> (B, N, D)
        var s = matmul(zbar, p.t()).view(b, t, FreqPatches, -1);                         // (B, N, K) -> (B, T, F, K)
        var low = s.min(2).values;                                                        // (B, T, K)
        var middle = s.mean(new long[] { 2 });                                            // (B, T, K)
        var high = s.max(2).values;                                                       // (B, T, K)
        return stack(new[] { low, middle, high }, -1).view(b, t, -1).MoveToOuterDisposeScope();   // (B, T, K, 3) -> (B, T, 3K)
    }

    public override Tensor forward(LayerEmbeddings x)
    {
        using var features = PooledFeatures(x);
        using var dropped = dropout.forward(features);
        return classifier.forward(dropped);                                               // (B, T, C)
    }

    public override IEnumerable<Parameter> ClassifierWeights() { yield return classifier.weight!; }

    public override float[] GateWeights() => Softmax(gate);
}
