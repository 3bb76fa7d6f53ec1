using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// A head trained on frozen layer features. Forward maps <see cref="LayerEmbeddings"/> to logits (B, C), or
/// (B, H, C) for a probe with H independent heads (the per-layer linear probe).
/// </summary>
public abstract class Probe : nn.Module<LayerEmbeddings, Tensor>
{
    protected Probe(string name) : base(name) { }

    /// <summary>The eps of every head's LayerNorm: the official models/vit.py builds them as its encoder's,
    /// partial(nn.LayerNorm, eps=1e-6), where TorchSharp's default is 1e-5.</summary>
    public const double NormEps = 1e-6;

    /// <summary>The parameters that take weight decay: the linear classifier's weight matrices only
    /// (never prototypes, gates, norms or biases, which decay would pull towards meaningless zeros).</summary>
    public abstract IEnumerable<Parameter> ClassifierWeights();

    /// <summary>An extra loss term (e.g. Head2Toe's group lasso), or null.</summary>
    public virtual Tensor? Penalty() => null;

    /// <summary>The convex layer weights softmax(a) of a gated probe (sums to 1), or null for ungated probes.</summary>
    public virtual float[]? GateWeights() => null;

    /// <summary>Number of independent prediction heads (1 except for the per-layer linear probe).</summary>
    public virtual int Heads => 1;

    /// <summary>Whether the probe reads patch tokens (if not, callers may pass an empty patch tensor).</summary>
    public virtual bool UsesPatches => false;

    public long ParameterCount => parameters().Sum(p => p.numel());

    protected static float[] Softmax(Parameter logits)
    {
        using var _ = no_grad();
        using var alpha = logits.softmax(0).cpu();
        return alpha.data<float>().ToArray();
    }
}
