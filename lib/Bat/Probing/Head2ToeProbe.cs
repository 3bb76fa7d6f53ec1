using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// Head2Toe (H2T) baseline: one linear layer on the concatenation of every layer's CLS (B, L*D), with a group
/// lasso penalty lambda * sum_l ||W_l||_F over the per-layer column blocks W_l (C x D) so whole layers can
/// switch off. The penalty is added to the loss by the trainer via <see cref="Penalty"/>.
/// </summary>
public sealed class Head2ToeProbe : Probe
{
    readonly Linear classifier;   // L*D -> C
    readonly int layers, dim;
    readonly double groupLasso;

    public Head2ToeProbe(int layers, int dim, int classes, double groupLasso = 1e-4) : base("h2t")
    {
        this.layers = layers;
        this.dim = dim;
        this.groupLasso = groupLasso;
        classifier = nn.Linear(layers * dim, classes);
        RegisterComponents();
    }

    public override Tensor forward(LayerEmbeddings x)
    {
        using var flat = x.Cls.reshape(x.Cls.shape[0], -1);   // (B, L, D) -> (B, L*D), layer-major like W's groups
        return classifier.forward(flat);                        // (B, C)
    }

    public override Tensor Penalty()
    {
        using var scope = NewDisposeScope();
        var groups = classifier.weight!.view(-1, layers, dim);              // (C, L*D) -> (C, L, D)
        var norms = groups.mul(groups).sum(new long[] { 0, 2 }).sqrt();     // (L): Frobenius norm per layer block
        using Scalar strength = groupLasso;   // kept alive for the call: see ScalarLifetimeGuardTests
        return norms.sum().mul(strength).MoveToOuterDisposeScope();
    }

    public override IEnumerable<Parameter> ClassifierWeights() { yield return classifier.weight!; }

    /// <summary>Frobenius norm of each layer's weight block: how much the probe uses each layer.</summary>
    public float[] LayerWeightNorms()
    {
        using var _ = no_grad();
        using var blocks = classifier.weight!.view(-1, layers, dim);
        using var norms = blocks.mul(blocks).sum(new long[] { 0, 2 }).sqrt().cpu();
        return norms.data<float>().ToArray();
    }
}
