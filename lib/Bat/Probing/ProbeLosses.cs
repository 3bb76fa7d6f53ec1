using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>The probe losses. Logits (B, C) or (B, H, C) for H heads; targets (B, C), broadcast over heads.
/// Both sum over classes (and heads) and average over the batch.</summary>
public static class ProbeLosses
{
    /// <summary>
    /// Asymmetric loss (Ridnik et al. 2021) with the AudioSet setting gamma- = 1, gamma+ = 0, clip m = 0:
    ///   L = - sum_c [ y_c (1 - p_c)^{gamma+} log p_c + (1 - y_c) p_m,c^{gamma-} log(1 - p_m,c) ]
    ///   with p = sigmoid(x), p_m = max(p - m, 0); here p_m = p and (1 - p)^0 = 1, so
    ///   L = - sum_c [ y_c log p_c + (1 - y_c) p_c log(1 - p_c) ].
    /// Negatives are down-weighted by their own probability: easy negatives (p ~ 0) barely count, which is
    /// what a multi-label task with ~1 positive in hundreds of classes needs. The focusing weight p_c is
    /// differentiated through (the formula's exact gradient). log p and log(1 - p) via log-sigmoid for stability.
    /// </summary>
    static readonly Scalar One = 1;   // kept Scalar: see ScalarLifetimeGuardTests

    public static Tensor AsymmetricLoss(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var y = Broadcast(targets, logits);
        var positive = y * nn.functional.logsigmoid(logits);
        var negative = (One - y) * logits.sigmoid() * nn.functional.logsigmoid(-logits);
        using Scalar batch = logits.shape[0];   // kept alive for the call: see ScalarLifetimeGuardTests
        return (-(positive + negative).sum()).div(batch).MoveToOuterDisposeScope();
    }

    /// <summary>Softmax cross-entropy against (possibly soft, e.g. mixup) target distributions: -sum_c y_c log softmax(x)_c.</summary>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var y = Broadcast(targets, logits);
        using Scalar batch = logits.shape[0];   // kept alive for the call: see ScalarLifetimeGuardTests
        return (-(y * logits.log_softmax(-1)).sum()).div(batch).MoveToOuterDisposeScope();
    }

    public static Tensor For(bool multiLabel, Tensor logits, Tensor targets) =>
        multiLabel ? AsymmetricLoss(logits, targets) : SoftmaxCrossEntropy(logits, targets);

    /// <summary>(B, C) targets for (B, H, C) logits become (B, 1, C).</summary>
    static Tensor Broadcast(Tensor targets, Tensor logits) => logits.dim() == 3 ? targets.unsqueeze(1) : targets.alias();
}
