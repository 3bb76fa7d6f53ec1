using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// LCGP baseline, as the official head (houtan-ghaffari/BAT_ICML2026 models/heads.py LinearCGP with the probing
/// configs' head_norm and head_dropout 0.2): a softmax-gated sum of every layer's CLS (gate logits init 0, a
/// uniform mix at start) -> LayerNorm -> Dropout -> Linear. CGP without prototypes and patch tokens.
/// </summary>
public sealed class LayerGatedClsProbe : Probe
{
    readonly Parameter gate;   // (L)
    readonly LayerNorm norm;
    readonly Dropout dropout;
    readonly Linear classifier;

    public LayerGatedClsProbe(int layers, int dim, int classes, double dropout = 0.2) : base("lcgp")
    {
        gate = new Parameter(zeros(layers));
        norm = nn.LayerNorm(dim, NormEps);
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(dim, classes);
        RegisterComponents();
    }

    public override Tensor forward(LayerEmbeddings x)
    {
        using var scope = NewDisposeScope();
        var alpha = gate.softmax(0).view(1, -1, 1);        // (1, L, 1)
        var mixed = (x.Cls * alpha).sum(1);                  // (B, L, D) -> (B, D)
        return classifier.forward(dropout.forward(norm.forward(mixed))).MoveToOuterDisposeScope();  // (B, C)
    }

    public override IEnumerable<Parameter> ClassifierWeights() { yield return classifier.weight!; }

    public override float[] GateWeights() => Softmax(gate);
}
