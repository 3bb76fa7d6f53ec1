using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// Head2Toe (H2T) baseline, as the official head (houtan-ghaffari/BAT_ICML2026 models/heads.py Head2Toe with the
/// probing configs' head_norm and head_dropout 0.2): every layer's CLS concatenated (B, L*D) -> LayerNorm(L*D)
/// -> Dropout -> Linear, with the group lasso lambda sqrt(C) sum_j ||W_{:,j}||_2 over the input features j (one
/// group per feature, its C weights), which the trainer adds to the loss via <see cref="Penalty"/>; lambda 1e-4
/// (lasso_weight of the official h2t configs). Frame-wise (frame_wise_forward): every layer's patch tokens averaged
/// over frequency, concatenated per time patch (B, T, L*D), one prediction per time patch.
/// </summary>
public sealed class Head2ToeProbe : Probe
{
    readonly LayerNorm norm;      // over L*D
    readonly Dropout dropout;
    readonly Linear classifier;   // L*D -> C
    readonly int layers, dim;
    readonly double groupLasso;

    /// <summary>The frequency patches of a frame-wise probe; null for the clip-level one.</summary>
    public int? FreqPatches { get; }

    public Head2ToeProbe(int layers, int dim, int classes, double groupLasso = 1e-4, double dropout = 0.2, int? freqPatches = null)
        : base(freqPatches is null ? "h2t" : "h2t-frame")
    {
        FreqPatches = freqPatches;
        this.layers = layers;
        this.dim = dim;
        this.groupLasso = groupLasso;
        norm = nn.LayerNorm(layers * dim, NormEps);
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(layers * dim, classes);
        RegisterComponents();
    }

    public override Tensor forward(LayerEmbeddings x)
    {
        using var scope = NewDisposeScope();
        var flat = FreqPatches is int f
            ? x.FrameMeans(f).permute(0, 2, 1, 3).flatten(2)   // (B, L, T, D) -> (B, T, L, D) -> (B, T, L*D), layer-major
            : x.Cls.reshape(x.Cls.shape[0], -1);              // (B, L, D) -> (B, L*D), layer-major
        return classifier.forward(dropout.forward(norm.forward(flat))).MoveToOuterDisposeScope();  // (B, C) or (B, T, C)
    }

    public override bool UsesPatches => FreqPatches is not null;

    /// <summary>lambda sqrt(C) sum_j ||W_{:,j}||_2: the official compute_group_lasso_penalty (not layer-wise) times lasso_weight.</summary>
    public override Tensor Penalty()
    {
        using var scope = NewDisposeScope();
        var weight = classifier.weight!;                                  // (C, L*D)
        var featureNorms = weight.norm(0);                                  // (L*D): one group per input feature
        using Scalar strength = groupLasso * Math.Sqrt(weight.shape[0]);  // kept alive for the call: see ScalarLifetimeGuardTests
        return featureNorms.sum().mul(strength).MoveToOuterDisposeScope();
    }

    public override IEnumerable<Parameter> ClassifierWeights() { yield return classifier.weight!; }

    /// <summary>Frobenius norm of each layer's weight block: how much the probe uses each layer.</summary>
    public float[] LayerWeightNorms()
    {
        using var _ = no_grad();
        using var blocks = classifier.weight!.view(-1, layers, dim);
        using var norms = blocks.mul(blocks).sum(new long[] { 0, 2 }).sqrt().to_type(ScalarType.Float32).cpu();
        return norms.data<float>().ToArray();
    }
}
