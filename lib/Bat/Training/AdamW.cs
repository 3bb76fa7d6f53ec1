using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;
using static Bat.KeptScalars;

namespace Bat.Training;

/// <summary>
/// AdamW (decoupled weight decay), written out so its state is a set of named tensors that go into the
/// checkpoint for exact resume. Same update as torch.optim.AdamW:
///   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p = p (1 - lr wd);
///   p = p - lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps).
/// Pre-training decays only parameters with 2 or more dimensions (weights; not biases or LayerNorm gains); the
/// probes and fine-tuning give each parameter group its own weight decay and learning-rate scale (layer-wise decay).
/// Every number reaches libtorch as a Scalar kept alive for the call (TorchSharp's own optimizers pass temporaries
/// that the GC may free mid-call; see ScalarLifetimeGuardTests).
/// </summary>
public sealed class AdamW : IDisposable
{
    /// <summary>Parameters sharing a learning-rate scale (times the step's lr) and a weight decay.</summary>
    public sealed record Group(IReadOnlyList<(string Name, Parameter P)> Parameters, double LrScale = 1.0, double WeightDecay = 0.0);

    readonly List<(string Name, Parameter P, Tensor M, Tensor V, double LrScale, double WeightDecay)> slots = [];
    readonly double beta1, beta2, eps;
    public long Updates { get; private set; }

    /// <summary>Pre-training: one learning rate; <paramref name="weightDecay"/> on the >= 2-D parameters only.</summary>
    public AdamW(IEnumerable<(string Name, Parameter P)> parameters, double beta1, double beta2, double eps, double weightDecay)
        : this(parameters.GroupBy(p => p.P.dim() >= 2).Select(g => new Group(g.ToList(), 1.0, g.Key ? weightDecay : 0.0)), beta1, beta2, eps)
    {
    }

    public AdamW(IEnumerable<Group> groups, double beta1, double beta2, double eps)
    {
        (this.beta1, this.beta2, this.eps) = (beta1, beta2, eps);
        foreach (var group in groups)
            foreach (var (name, p) in group.Parameters)
                slots.Add((name, p, zeros_like(p), zeros_like(p), group.LrScale, group.WeightDecay));
    }

    public IEnumerable<Parameter> Parameters => slots.Select(s => s.P);

    public void ZeroGrad()
    {
        foreach (var s in slots) s.P.grad?.zero_();
    }

    public void Step(double lr)
    {
        using var _ = no_grad();
        Updates++;
        double bias1 = 1 - Math.Pow(beta1, Updates), bias2 = 1 - Math.Pow(beta2, Updates);
        using Scalar b1 = beta1, b2 = beta2, oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2;
        using Scalar epsilon = eps, invSqrtBias2 = 1 / Math.Sqrt(bias2);
        foreach (var (_, p, m, v, lrScale, weightDecay) in slots)
        {
            var g = p.grad;
            if (g is null) continue;
            double slotLr = lr * lrScale;
            using Scalar shrink = 1 - slotLr * weightDecay, stepSize = -slotLr / bias1;
            m.mul_(b1).add_(g, alpha: oneMinusB1);
            v.mul_(b2).addcmul_(g, g, value: oneMinusB2);
            if (weightDecay != 0) p.mul_(shrink);
            using var denom = v.sqrt().mul_(invSqrtBias2).add_(epsilon, One);
            p.addcdiv_(m, denom, value: stepSize);
        }
    }

    /// <summary>The moments as named tensors plus the update count (as a 1-element tensor).</summary>
    public IEnumerable<(string Name, Tensor Value)> State()
    {
        foreach (var s in slots)
        {
            yield return ($"optim.m.{s.Name}", s.M);
            yield return ($"optim.v.{s.Name}", s.V);
        }
    }

    public void LoadState(Dictionary<string, Tensor> tensors, long updates, string source)
    {
        using var _ = no_grad();
        foreach (var s in slots)
            foreach (var (key, target) in new[] { ($"optim.m.{s.Name}", s.M), ($"optim.v.{s.Name}", s.V) })
            {
                if (!tensors.TryGetValue(key, out var value) || !value.shape.SequenceEqual(target.shape))
                    throw new BatException(source, $"optimizer state '{key}' is missing or has the wrong shape");
                target.copy_(value);
            }
        Updates = updates;
    }

    public void Dispose()
    {
        foreach (var s in slots) { s.M.Dispose(); s.V.Dispose(); }
    }
}
