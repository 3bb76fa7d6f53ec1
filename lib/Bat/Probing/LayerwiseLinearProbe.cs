using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// One linear probe per block (paper Figure 4, top row), trained together on shared batches: each head sees
/// only its own layer's CLS, so sharing batches changes nothing but the cost. Output (B, L, C).
/// </summary>
public sealed class LayerwiseLinearProbe : Probe
{
    readonly ModuleList<LinearProbeHead> heads;

    public LayerwiseLinearProbe(int layers, int dim, int classes, double dropout = 0.2) : base("layer-lp")
    {
        heads = nn.ModuleList(Enumerable.Range(0, layers).Select(_ => new LinearProbeHead(dim, classes, dropout)).ToArray());
        RegisterComponents();
    }

    public override int Heads => heads.Count;

    public override Tensor forward(LayerEmbeddings x)
    {
        using var scope = NewDisposeScope();
        var logits = heads.Select((head, l) => head.forward(x.Cls.select(1, l))).ToArray();  // L x (B, C)
        return stack(logits, 1).MoveToOuterDisposeScope();                                 // (B, L, C)
    }

    public override IEnumerable<Parameter> ClassifierWeights() => heads.Select(h => h.Classifier.weight!);

    /// <summary>LayerNorm -> Dropout -> Linear on one layer's CLS: (B, D) -> (B, C).</summary>
    public sealed class LinearProbeHead : nn.Module<Tensor, Tensor>
    {
        readonly LayerNorm norm;
        readonly Dropout dropout;
        internal readonly Linear Classifier;

        public LinearProbeHead(int dim, int classes, double dropout) : base("head")
        {
            norm = nn.LayerNorm(dim, Probe.NormEps);
            this.dropout = nn.Dropout(dropout);
            Classifier = nn.Linear(dim, classes);
            RegisterComponents();
        }

        public override Tensor forward(Tensor cls)
        {
            using var normed = norm.forward(cls);
            using var dropped = dropout.forward(normed);
            return Classifier.forward(dropped);
        }
    }
}
