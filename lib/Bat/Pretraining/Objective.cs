using Bat.Frontends;
using TorchSharp;
using static TorchSharp.torch;
using static Bat.KeptScalars;

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
        var average = AverageOverLayers(layers, x =>                              // (B, N, D)
        {
            var mean = x.mean([1], keepdim: true);                                 // over tokens
            var variance = x.var(1, unbiased: false, keepdim: true);
            return x.sub(mean).div(variance.add(InstanceNormEps, One).sqrt());
        });
        return nn.functional.layer_norm(average, [average.shape[2]], eps: 1e-5).MoveToOuterDisposeScope();
    }

    /// <summary>The mean over the target layers of f(layer's patch tokens), the CLS dropped: (B, 1 + N, D) -> f((B, N, D)).</summary>
    static Tensor AverageOverLayers(IReadOnlyList<Tensor> layers, Func<Tensor, Tensor> f)
    {
        Tensor? sum = null;
        foreach (var layer in layers)
        {
            var term = f(layer[.., 1..]);
            sum = sum is null ? term : sum.add(term, One);
        }
        using Scalar count = layers.Count;   // kept Scalars: see ScalarLifetimeGuardTests
        return sum!.div(count);
    }

    /// <summary>
    /// Content targets that need no teacher: each patch's spectrogram pixels (B, N, P*P), normalised per patch
    /// (MAE's norm_pix), through a fixed random projection (P*P, D) so the decoder's width is unchanged, then
    /// LayerNorm over the features. Position cannot predict them.
    /// </summary>
    public static Tensor Pixels(Tensor features, int patch, Tensor projection)
    {
        using var scope = NewDisposeScope();
        long b = features.shape[0], tp = features.shape[2] / patch, fp = features.shape[3] / patch;
        var p = features.reshape(b, tp, patch, fp, patch).permute(0, 1, 3, 2, 4).reshape(b, tp * fp, patch * patch); // (B, N, P*P), token t F + f
        p = nn.functional.layer_norm(p, [patch * patch], eps: 1e-6);
        var projected = p.matmul(projection);                                      // (B, N, D)
        return nn.functional.layer_norm(projected, [projected.shape[2]], eps: 1e-5).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Position-centred targets (B, N, D): each target minus the batch's mean target at the same patch position,
    /// then LayerNorm over the features again. What is left is what tells clips apart at a position (content);
    /// what every clip shares at a position (the position signal a small teacher is dominated by) is gone, so
    /// the student cannot lower the loss by learning the position table. Needs a batch of 2 or more clips.
    /// </summary>
    public static Tensor CentreOverPositions(Tensor targets)
    {
        using var scope = NewDisposeScope();
        var centred = targets.sub(targets.mean([0], keepdim: true));              // (B, N, D) - (1, N, D)
        return nn.functional.layer_norm(centred, [centred.shape[2]], eps: 1e-5).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The pooled utterance target (B, D), a research lever outside both papers: the teacher's raw outputs
    /// (B, 1+N, D) per target layer, averaged over the patches (CLS dropped) and the layers; minus the batch's mean
    /// (what every clip shares: the position table, the biases); LayerNorm over the features. The papers' target,
    /// the frame targets' mean over the patches, is close to zero by construction (each layer is instance-normed
    /// over the patches), so it gives the CLS little to tell clips apart by; this one is content only.
    /// </summary>
    public static Tensor PooledUtterance(IReadOnlyList<Tensor> layers)
    {
        using var scope = NewDisposeScope();
        var average = AverageOverLayers(layers, x => x.mean([1]));                 // (B, N, D) -> (B, D)
        var centred = average.sub(average.mean([0], keepdim: true));                 // (B, D) - (1, D)
        return nn.functional.layer_norm(centred, [centred.shape[1]], eps: 1e-5).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The spectral utterance target (B, D), a research lever outside both papers (docs/method.md section 7), in the
    /// spirit of PASE's workers (Pascual et al., 2019) and MaskFeat's hand-made targets (Wei et al., 2022): the clip's
    /// band statistics (Bat.Frontends.BandStatistics), z-scored per feature with the training data's mean and std (fixed, so a clip's target does
    /// not depend on the rest of its batch), through a fixed random (2M, D) projection, LayerNorm over the features.
    /// The masked student's CLS must say what the whole clip's spectrum is: content only, no teacher.
    /// </summary>
    /// <param name="features">(B, 1, T, M) unmasked input</param>
    /// <param name="mean">(1, 2M) and <paramref name="std"/> (1, 2M): over the training clips</param>
    /// <param name="projection">(2M, D)</param>
    public static Tensor Spectral(Tensor features, Tensor mean, Tensor std, Tensor projection)
    {
        using var scope = NewDisposeScope();
        var z = BandStatistics.Of(features).sub(mean).div(std);                      // (B, 2M)
        var projected = z.matmul(projection);                                        // (B, 2M) -> (B, D)
        return nn.functional.layer_norm(projected, [projected.shape[1]], eps: 1e-5).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The collapse check: the share of the targets' variance that is content, content / (content + position),
    /// for targets (B, N, D) of B different clips. Content = variance across clips at the same patch position;
    /// position = variance across positions of the mean target over clips (both averaged over channels and
    /// positions). Instance norm makes every channel's variance over tokens 1 by construction, so the plain
    /// variance cannot show a collapse onto position; this split can. Near 0: the targets are a function of
    /// the position alone.
    /// </summary>
    public static double ContentShare(Tensor targets)
    {
        if (targets.shape[0] < 2) return double.NaN;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = targets.to_type(ScalarType.Float64);
        double content = x.var(0, unbiased: false).mean().item<double>();            // over clips, per (n, d)
        double position = x.mean([0]).var(0, unbiased: false).mean().item<double>(); // over positions, per d
        return content / Math.Max(1e-12, content + position);
    }

    /// <summary>
    /// What the student predicts of the content: the frame loss (the decoder's mean squared error over the masked
    /// cells, UfoLoss's Frame) divided by the expected squared error there of a guess that knows the position and
    /// nothing of the clip (each position's mean target). That reference is estimated from the batch: the squared
    /// deviation from the batch's mean at the position, times B/(B-1) for B clips (the mean includes the clip itself,
    /// which would make it too good by (B-1)/B).
    /// About 1: the student predicts the position alone; 0: every target exactly. NaN for fewer than 2 clips.
    /// </summary>
    /// <param name="frameLoss">the frame loss of the same targets and masked cells</param>
    /// <param name="targets">the targets the frame loss is taken against, repeated per clone (S, N, D)</param>
    /// <param name="masked">masked cell indices (S, M)</param>
    /// <param name="clips">clips in the batch (S = clips x clones)</param>
    public static double ContentError(double frameLoss, Tensor targets, Tensor masked, long clips)
    {
        if (clips < 2) return double.NaN;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var index = masked.unsqueeze(-1).expand(-1, -1, targets.shape[2]);          // (S, M, D)
        var deviation = targets.sub(targets.mean([0], keepdim: true))                // (S, N, D): each clone row counts once per clip
            .gather(1, index).to_type(ScalarType.Float64);
        double positionOnly = deviation.mul(deviation).mean().item<double>() * clips / (clips - 1.0);
        return frameLoss / Math.Max(1e-12, positionOnly);
    }
}

/// <summary>
/// The Utterance-Frame Objective. With S = batch x clones rows, M masked cells per row and D channels:
///   frame     = 1/(S M D) * sum_{s, masked i, d} (prediction - target)^2
///   utterance = 1/(S D)   * sum_{s, d} (CLS_s - mean_i target_{s, i})^2
///               (or CLS_s - u_s for given utterance targets u, TeacherTargets.PooledUtterance or .Spectral)
/// Equal (BAT):   total = w * frame + lambda * utterance.
/// Fairseq (EAT): total = w * frame + lambda * S * utterance. EAT's fairseq code sums per-row utterance losses,
///   multiplies them by the sample size and then divides the whole loss by that sample size, so the utterance
///   term ends up summed (not averaged) over the S rows. (EAT also scales both terms by sqrt(D) = sum over D /
///   sqrt(D); that common factor only rescales the learning rate and is left out here.)
/// The frame weight w is 1 in both papers; 0 drops the masked prediction (a research lever, PretrainConfig.FrameWeight).
/// </summary>
public static class UfoLoss
{
    public sealed record Parts(Tensor Total, Tensor Frame, Tensor Utterance);

    /// <param name="prediction">decoder output (S, N, D)</param>
    /// <param name="targets">teacher targets repeated per clone (S, N, D)</param>
    /// <param name="masked">masked cell indices (S, M)</param>
    /// <param name="cls">student final-layer CLS (S, D)</param>
    /// <param name="utteranceTargets">what the CLS regresses (S, D); null: the frame targets' mean over the patches</param>
    public static Parts Compute(Tensor prediction, Tensor targets, Tensor masked, Tensor cls, double lambda, UtteranceWeighting weighting,
        Tensor? utteranceTargets = null, double frameWeight = 1)
    {
        var index = masked.unsqueeze(-1).expand(-1, -1, prediction.shape[2]);       // (S, M, D)
        var frameError = prediction.gather(1, index).sub(targets.gather(1, index));
        var frame = frameError.mul(frameError).mean();
        var utteranceError = cls.sub(utteranceTargets ?? targets.mean([1]));
        var utterance = utteranceError.mul(utteranceError).mean();
        double weight = weighting switch
        {
            UtteranceWeighting.Equal => lambda,
            UtteranceWeighting.Fairseq => lambda * prediction.shape[0],
            _ => throw new BatException("pretrain config", $"utterance weighting must be fairseq|equal, not {weighting}"),
        };
        using Scalar weightScalar = weight, frameWeightScalar = frameWeight;   // kept alive for the call: see ScalarLifetimeGuardTests
        return new Parts(frame.mul(frameWeightScalar).add(utterance.mul(weightScalar), One), frame, utterance);
    }
}

/// <summary>
/// A research lever outside both papers against dimensional collapse (docs/method.md section 7): VICReg's variance
/// and covariance terms (Bardes et al., 2022) on what the probes read, rows = samples of the batch:
/// variance = mean over d of relu(1 - sqrt(Var_s x[s, d] + 1e-4)) (every channel keeps a spread across samples),
/// covariance = sum of the squared off-diagonal covariances / D (channels carry different things), weighted 1 : 1/25
/// as VICReg weights them (25 : 1).
/// </summary>
public static class SpreadRegulariser
{
    public const double CovarianceWeight = 1.0 / 25;
    static readonly Scalar VarianceEps = 1e-4, Target = 1.0, CovarianceWeightScalar = CovarianceWeight;

    /// <param name="x">(S, D), S at least 2</param>
    public static Tensor Compute(Tensor x)
    {
        using var scope = NewDisposeScope();
        using Scalar samplesLess1 = (double)(x.shape[0] - 1), channels = (double)x.shape[1];   // kept Scalars: see ScalarLifetimeGuardTests
        var centred = x.sub(x.mean([0], keepdim: true));                          // (S, D)
        var variance = centred.mul(centred).sum([0]).div(samplesLess1);           // (D), unbiased as in VICReg
        var spread = nn.functional.relu(variance.add(VarianceEps, One).sqrt().neg().add(Target, One)).mean();
        var covariance = centred.t().matmul(centred).div(samplesLess1);           // (D, D)
        var diagonal = covariance.diagonal();
        var offDiagonal = covariance.mul(covariance).sum().sub(diagonal.mul(diagonal).sum()).div(channels);
        return spread.add(offDiagonal.mul(CovarianceWeightScalar), One).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// (S, D) rows through a LayerNorm over the features without gain or bias (eps 1e-6, LP's head LayerNorm): what a
    /// probe that normalises its input reads of them. A spread that only scales every feature alike is gone from it.
    /// </summary>
    public static Tensor GainFree(Tensor x) => nn.functional.layer_norm(x, [x.shape[1]], eps: 1e-6);

    /// <summary>
    /// The student's visible tokens with their position's mean over the batch taken away: what tells a token from the
    /// other tokens at the same patch position (content, and the context its clone saw), not where it is. The rows the
    /// token spread term (PretrainConfig.TokenSpreadWeight) keeps spread: a position the batch sees once is 0.
    /// </summary>
    /// <param name="tokens">(S, K, D) visible tokens of the S clones</param>
    /// <param name="keep">(S, K) their patch positions, each in [0, positions)</param>
    /// <returns>(S*K, D)</returns>
    public static Tensor PositionCentred(Tensor tokens, Tensor keep, long positions)
    {
        using var scope = NewDisposeScope();
        long d = tokens.shape[2];
        var flat = tokens.reshape(-1, d);                                            // (S, K, D) -> (S*K, D)
        var position = keep.reshape(-1);                                             // (S*K)
        var sums = zeros(new long[] { positions, d }, flat.dtype, flat.device).index_add(0, position, flat, One); // (N, D)
        var counts = zeros(new long[] { positions }, flat.dtype, flat.device).index_add(0, position, ones_like(position, flat.dtype), One);
        var means = sums.div(counts.clamp_min(One).unsqueeze(1));                    // (N, D): each position's mean token
        return flat.sub(means.index_select(0, position)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// VICReg's invariance term (Bardes et al., 2022) across the masked clones of each clip, a research lever outside both
/// papers (docs/method.md section 7): the mean squared distance of each clone's embedding from the mean of its
/// clip's clones. The spread term alone can be met by what differs between clones (their masks); this asks the
/// clones of one clip to agree, so the spread that remains is between clips.
/// </summary>
public static class CloneInvariance
{
    /// <param name="x">(B*C, D), the C clones of a clip in consecutive rows (repeat_interleave)</param>
    public static Tensor Compute(Tensor x, int clones)
    {
        using var scope = NewDisposeScope();
        var perClip = x.reshape(-1, clones, x.shape[1]);                          // (B*C, D) -> (B, C, D)
        var deviation = perClip.sub(perClip.mean([1], keepdim: true));
        return deviation.mul(deviation).sum([2]).mean().MoveToOuterDisposeScope();   // mean over clones of the squared distance
    }
}

/// <summary>
/// The dimensional-collapse check (docs/method.md section 7): the effective rank of a set of embeddings, rows = samples,
/// exp of the entropy of the normalised singular values of the centred matrix (Roy and Vetterli, 2007; RankMe,
/// Garrido et al., 2023). D equal, uncorrelated channels give D; everything on one line gives 1. The content share
/// cannot see a representation that keeps clips apart along only a few directions; this can.
/// </summary>
public static class EffectiveRank
{
    /// <param name="x">(S, D), S at least 2; NaN for fewer rows or no spread at all</param>
    public static double Of(Tensor x)
    {
        if (x.shape[0] < 2) return double.NaN;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var centred = x.to_type(ScalarType.Float64);
        centred = centred.sub(centred.mean([0], keepdim: true));
        var singular = linalg.svdvals(centred);
        double total = singular.sum().item<double>();
        if (!(total > 1e-12)) return double.NaN;
        double entropy = 0;
        foreach (var s in singular.data<double>())
        {
            double p = s / total;
            if (p > 0) entropy -= p * Math.Log(p);
        }
        return Math.Exp(entropy);
    }
}
