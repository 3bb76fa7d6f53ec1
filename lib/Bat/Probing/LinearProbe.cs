using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>The standard linear probe (LP): last layer's CLS -> LayerNorm -> Dropout -> Linear.</summary>
public sealed class LinearProbe : Probe
{
    readonly LayerNorm norm;
    readonly Dropout dropout;
    readonly Linear classifier;

    public LinearProbe(int dim, int classes, double dropout = 0.2) : base("lp")
    {
        norm = nn.LayerNorm(dim, NormEps);
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(dim, classes);
        RegisterComponents();
    }

    public override Tensor forward(LayerEmbeddings x)
    {
        using var scope = NewDisposeScope();
        var last = x.Cls.select(1, x.Cls.shape[1] - 1);              // (B, L, D) -> (B, D)
        return classifier.forward(dropout.forward(norm.forward(last))).MoveToOuterDisposeScope();  // (B, C)
    }

    public override IEnumerable<Parameter> ClassifierWeights() { yield return classifier.weight!; }
}
