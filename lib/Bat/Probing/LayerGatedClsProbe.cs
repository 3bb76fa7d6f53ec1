using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// LCGP baseline: a softmax-gated sum of every layer's CLS (gate logits init 0, i.e. a uniform mix at start)
/// -> LayerNorm -> Linear. CGP without prototypes and patch tokens.
/// </summary>
public sealed class LayerGatedClsProbe : Probe
{
    readonly Parameter gate;   // (L)
    readonly LayerNorm norm;
    readonly Linear classifier;

    public LayerGatedClsProbe(int layers, int dim, int classes) : base("lcgp")
    {
        gate = new Parameter(zeros(layers));
        norm = nn.LayerNorm(dim);
        classifier = nn.Linear(dim, classes);
        RegisterComponents();
    }

    public override Tensor forward(LayerEmbeddings x)
    {
        using var scope = NewDisposeScope();
        var alpha = gate.softmax(0).view(1, -1, 1);        // (1, L, 1)
        var mixed = (x.Cls * alpha).sum(1);                  // (B, L, D) -> (B, D)
        return classifier.forward(norm.forward(mixed)).MoveToOuterDisposeScope();  // (B, C)
    }

    public override IEnumerable<Parameter> ClassifierWeights() { yield return classifier.weight!; }

    public override float[] GateWeights() => Softmax(gate);
}
