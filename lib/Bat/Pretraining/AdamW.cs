using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Pretraining;

/// <summary>
/// AdamW (decoupled weight decay), written out so its state is a set of named tensors that go into the
/// checkpoint for exact resume. Same update as torch.optim.AdamW:
///   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p = p (1 - lr wd);
///   p = p - lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps).
/// Weight decay applies only to parameters with 2 or more dimensions (weights; not biases or LayerNorm gains).
/// </summary>
public sealed class AdamW : IDisposable
{
    readonly List<(string Name, Parameter P, Tensor M, Tensor V, bool Decay)> slots = [];
    readonly double beta1, beta2, eps, weightDecay;
    public long Updates { get; private set; }

    public AdamW(IEnumerable<(string Name, Parameter P)> parameters, double beta1, double beta2, double eps, double weightDecay)
    {
        (this.beta1, this.beta2, this.eps, this.weightDecay) = (beta1, beta2, eps, weightDecay);
        foreach (var (name, p) in parameters)
            slots.Add((name, p, zeros_like(p), zeros_like(p), p.dim() >= 2));
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
        using Scalar shrink = 1 - lr * weightDecay, epsilon = eps, stepSize = -lr / bias1, invSqrtBias2 = 1 / Math.Sqrt(bias2);
        foreach (var (_, p, m, v, decay) in slots)
        {
            var g = p.grad;
            if (g is null) continue;
            m.mul_(b1).add_(g, alpha: oneMinusB1);
            v.mul_(b2).addcmul_(g, g, value: oneMinusB2);
            if (decay && weightDecay != 0) p.mul_(shrink);
            using var denom = v.sqrt().mul_(invSqrtBias2).add_(epsilon);
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

/// <summary>Linear warm-up to the peak, then cosine decay to 0 at the last step.</summary>
public static class LearningRate
{
    public static double At(long step, double peak, long warmup, long total)
    {
        if (step < warmup) return peak * (step + 1) / warmup;
        double progress = Math.Min(1.0, (double)(step - warmup) / Math.Max(1, total - warmup));
        return peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
