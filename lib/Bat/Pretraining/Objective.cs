using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Pretraining;

/// <summary>Teacher targets (docs/method.md section 3).</summary>
public static class TeacherTargets
{
    static readonly Scalar InstanceNormEps = 1e-5;   // kept Scalar: see ScalarLifetimeGuardTests

    /// <summary>
    /// Per-layer teacher outputs (B, 1+N, D) -> targets (B, N, D): drop CLS; instance-norm each layer over the
    /// tokens (per sample and channel, biased variance, eps 1e-5, no affine); average the layers; LayerNorm
    /// over the features (eps 1e-5, no affine).
    /// </summary>
    public static Tensor Build(IReadOnlyList<Tensor> layers)
    {
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        foreach (var layer in layers)
        {
            var x = layer[.., 1..];                                                // (B, N, D)
            var mean = x.mean([1], keepdim: true);                                 // over tokens
            var variance = x.var(1, unbiased: false, keepdim: true);
            var normed = x.sub(mean).div(variance.add(InstanceNormEps).sqrt());
            sum = sum is null ? normed : sum.add(normed);
        }
        using Scalar count = layers.Count;   // kept Scalars: see ScalarLifetimeGuardTests
        var average = sum!.div(count);
        return nn.functional.layer_norm(average, [average.shape[2]], eps: 1e-5).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The Utterance-Frame Objective. With S = batch x clones rows, M masked cells per row and D channels:
///   frame     = 1/(S M D) * sum_{s, masked i, d} (prediction - target)^2
///   utterance = 1/(S D)   * sum_{s, d} (CLS_s - mean_i target_{s, i})^2
/// Equal (BAT):   total = frame + lambda * utterance.
/// Fairseq (EAT): total = frame + lambda * S * utterance. EAT's fairseq code sums per-row utterance losses,
///   multiplies them by the sample size and then divides the whole loss by that sample size, so the utterance
///   term ends up summed (not averaged) over the S rows. (EAT also scales both terms by sqrt(D) = sum over D /
///   sqrt(D); that common factor only rescales the learning rate and is left out here.)
/// </summary>
public static class UfoLoss
{
    public sealed record Parts(Tensor Total, Tensor Frame, Tensor Utterance);

    /// <param name="prediction">decoder output (S, N, D)</param>
    /// <param name="targets">teacher targets repeated per clone (S, N, D)</param>
    /// <param name="masked">masked cell indices (S, M)</param>
    /// <param name="cls">student final-layer CLS (S, D)</param>
    public static Parts Compute(Tensor prediction, Tensor targets, Tensor masked, Tensor cls, double lambda, UtteranceWeighting weighting)
    {
        var index = masked.unsqueeze(-1).expand(-1, -1, prediction.shape[2]);       // (S, M, D)
        var frameError = prediction.gather(1, index).sub(targets.gather(1, index));
        var frame = frameError.mul(frameError).mean();
        var utteranceError = cls.sub(targets.mean([1]));
        var utterance = utteranceError.mul(utteranceError).mean();
        double weight = weighting switch
        {
            UtteranceWeighting.Equal => lambda,
            UtteranceWeighting.Fairseq => lambda * prediction.shape[0],
            _ => throw new BatException("pretrain config", $"utterance weighting must be fairseq|equal, not {weighting}"),
        };
        using Scalar weightScalar = weight;   // kept alive for the call: see ScalarLifetimeGuardTests
        return new Parts(frame.add(utterance.mul(weightScalar)), frame, utterance);
    }
}
