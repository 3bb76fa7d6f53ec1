using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// The probe and fine-tuning losses, as the official code has them (houtan-ghaffari/BAT_ICML2026 engine/trainer.py
/// and engine/utils.py; tests/Bat.Tests/Probing/OfficialHeadTests.cs compares both with it). Logits (B, C) or
/// (B, H, C) for H independent heads; targets (B, C), broadcast over heads. A multi-head loss is the sum of the
/// heads' losses, so every head gets the gradient it would get trained alone.
/// </summary>
public static class ProbeLosses
{
    // The official AsymmetricLossMultiLabel(gamma_neg=1, gamma_pos=0, clip=0.0) and its default eps.
    static readonly Scalar One = 1, Eps = 1e-8, GammaPositive = 0.0, GammaNegative = 1.0;   // kept Scalars: see ScalarLifetimeGuardTests

    /// <summary>
    /// Asymmetric loss (Ridnik et al. 2021) with the official AudioSet setting gamma- = 1, gamma+ = 0, clip 0
    /// (engine/utils.py AsymmetricLossMultiLabel as engine/trainer.py builds it), for targets y in [0, 1]:
    ///   p_t = y p + (1 - y)(1 - p),  w = (1 - p_t)^{gamma+ y + gamma- (1 - y)}      with p = sigmoid(x)
    ///   L   = - mean over batch and classes of  w [ y log max(p, eps) + (1 - y) log max(1 - p, eps) ],  eps 1e-8.
    /// For hard labels w is 1 on positives and p on negatives: easy negatives (p ~ 0) barely count, which is what a
    /// multi-label task with ~1 positive in hundreds of classes needs. The focusing weight w is computed without
    /// gradient (disable_torch_grad_focal_loss), and the eps clamp cuts the gradient of a confidently wrong logit
    /// (|x| above ~18), both as the official loss does.
    /// </summary>
    public static Tensor AsymmetricLoss(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var y = Broadcast(targets, logits);
        var p = logits.sigmoid();
        var q = One - p;
        var logLikelihood = (y * p.clamp_min(Eps).log()).add((One - y) * q.clamp_min(Eps).log(), One);
        Tensor focus;
        using (no_grad())
        {
            var pt = (p * y).add(q * (One - y), One);
            focus = (One - pt).pow((GammaPositive * y).add(GammaNegative * (One - y), One));
        }
        using Scalar cells = logits.shape[0] * logits.shape[^1];   // kept alive for the call: see ScalarLifetimeGuardTests
        return (-(logLikelihood * focus).sum()).div(cells).MoveToOuterDisposeScope();
    }

    /// <summary>Softmax cross-entropy against (possibly soft, e.g. mixup) target distributions, mean over the batch:
    /// -sum_c y_c log softmax(x)_c (the official single-label loss, F.cross_entropy with label_smoothing 0).</summary>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var y = Broadcast(targets, logits);
        using Scalar batch = logits.shape[0];   // kept alive for the call: see ScalarLifetimeGuardTests
        return (-(y * logits.log_softmax(-1)).sum()).div(batch).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Binary cross-entropy with logits, the mean over every element: the official loss of the DCASE 2016 task 2
    /// recipe (engine/trainer.py F.binary_cross_entropy_with_logits, use_asymmetric_loss false) on frame-wise
    /// logits and targets (B, T, C).
    /// </summary>
    public static Tensor BinaryCrossEntropy(Tensor logits, Tensor targets) =>
        nn.functional.binary_cross_entropy_with_logits(logits, targets);

    public static Tensor For(bool multiLabel, Tensor logits, Tensor targets) =>
        multiLabel ? AsymmetricLoss(logits, targets) : SoftmaxCrossEntropy(logits, targets);

    /// <summary>(B, C) targets for (B, H, C) logits become (B, 1, C).</summary>
    static Tensor Broadcast(Tensor targets, Tensor logits) => logits.dim() == 3 ? targets.unsqueeze(1) : targets.alias();
}
