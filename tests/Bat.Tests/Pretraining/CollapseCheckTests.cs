using Bat.Pretraining;
using static TorchSharp.torch;

namespace Bat.Tests.Pretraining;

/// <summary>The collapse check (TeacherTargets.ContentShare, .ContentError) and position-centred targets, against hand-computed cases.</summary>
public class CollapseCheckTests
{
    [Fact]
    public void PositionOnlyTargetsHaveNoContentAndClipOnlyTargetsAreAllContent()
    {
        using var position = randn(1, 6, 5).expand(4, 6, 5).contiguous();   // the same at every clip
        Assert.Equal(0.0, TeacherTargets.ContentShare(position), 6);
        using var content = randn(4, 1, 5).expand(4, 6, 5).contiguous();    // the same at every position
        Assert.Equal(1.0, TeacherTargets.ContentShare(content), 6);
    }

    [Fact]
    public void ShareIsContentOverContentPlusPositionByHand()
    {
        // 2 clips x 2 positions x 1 channel: t[b, n] = p[n] + c[b] with p = (-1, 1), c = (-0.5, 0.5).
        // Content: variance over clips at each position = 0.25. Position: variance over positions of the clip mean = 1.
        using var t = tensor(new float[] { -1.5f, 0.5f, -0.5f, 1.5f }, 2, 2, 1);
        Assert.Equal(0.25 / 1.25, TeacherTargets.ContentShare(t), 6);
        using var one = t[..1];
        Assert.True(double.IsNaN(TeacherTargets.ContentShare(one)));   // a single clip has no content variance to measure
    }

    [Fact]
    public void CentringRemovesWhatEveryClipSharesAtAPosition()
    {
        using var content = randn(5, 1, 8).expand(5, 7, 8).contiguous() + randn(5, 7, 8) * 0.3;
        using var positionA = randn(1, 7, 8) * 10;
        using var positionB = randn(1, 7, 8) * 10;
        using var a = TeacherTargets.CentreOverPositions(content + positionA);
        using var b = TeacherTargets.CentreOverPositions(content + positionB);
        Assert.True(allclose(a, b, rtol: 1e-4, atol: 1e-4), "the centred targets must not depend on the position table");
        Assert.True(TeacherTargets.ContentShare(a) > 0.9, "LayerNorm after centring leaves only a small shared part");
        Assert.True(TeacherTargets.ContentShare(content + positionA) < 0.1, "before centring the strong position table dominates");
        // LayerNorm over features afterwards: every token has mean 0 and (biased) variance 1.
        Assert.True(allclose(a.mean([2]), zeros(5, 7), atol: 1e-5));
        Assert.True(allclose(a.var(2, unbiased: false), ones(5, 7), atol: 1e-3));
    }

    [Fact]
    public void ContentErrorIsTheFrameErrorOverThatOfEachPositionsMeanByHand()
    {
        // 2 clips x 2 positions x 1 channel, each clip twice (2 clones, as the trainer repeats them): clip 0 = (1, 3),
        // clip 1 = (3, 5); the position means are (2, 4). Masked: clip 0's clones position 0, clip 1's position 1.
        // Squared deviations from the position means: (1-2)^2 = 1 and (5-4)^2 = 1, mean 1, times B/(B-1) = 2: reference 2.
        using var targets = tensor(new float[] { 1, 3, 1, 3, 3, 5, 3, 5 }, 4, 2, 1);
        using var masked = tensor(new long[] { 0, 0, 1, 1 }, 4, 1);
        // The frame loss, through UfoLoss, of a prediction of 0 everywhere: (0-1)^2 = 1 and (0-5)^2 = 25, mean 13, so 13 / 2.
        using var zero = zeros(4, 2, 1);
        Assert.Equal(6.5, TeacherTargets.ContentError(FrameLoss(zero, targets, masked), targets, masked, clips: 2), 6);
        // The batch's own position means: 1 / 2 (they include the clip); the targets themselves 0; one clip has no content.
        using var means = tensor(new float[] { 2, 4, 2, 4, 2, 4, 2, 4 }, 4, 2, 1);
        Assert.Equal(0.5, TeacherTargets.ContentError(FrameLoss(means, targets, masked), targets, masked, clips: 2), 6);
        Assert.Equal(0.0, TeacherTargets.ContentError(FrameLoss(targets, targets, masked), targets, masked, clips: 2), 6);
        Assert.True(double.IsNaN(TeacherTargets.ContentError(1.0, targets[..2], masked[..2], clips: 1)));
    }

    [Fact]
    public void APredictionThatKnowsOnlyThePositionReadsAboutOne()
    {
        // Targets = a position table + clip noise of variance 1, 8 clips; the prediction is the true table (the best a
        // position-only guess can do). Expected ratio 1: the B/(B-1) correction removes the batch mean's bias (8/7 without it).
        using var generator = new TorchSharp.torch.Generator(7);
        using var table = randn(new long[] { 1, 64, 32 }, generator: generator) * 3;
        using var targets = table + randn(new long[] { 8, 64, 32 }, generator: generator);
        using var masked = arange(0, 64, dtype: ScalarType.Int64).unsqueeze(0).expand(8, 64).contiguous();
        using var prediction = table.expand(8, 64, 32).contiguous();
        Assert.InRange(TeacherTargets.ContentError(FrameLoss(prediction, targets, masked), targets, masked, clips: 8), 0.95, 1.05);
    }

    /// <summary>The frame term of the papers' loss, as the trainer passes it on.</summary>
    static double FrameLoss(Tensor prediction, Tensor targets, Tensor masked)
    {
        using var cls = zeros(prediction.shape[0], prediction.shape[2]);
        var parts = UfoLoss.Compute(prediction, targets, masked, cls, 1, UtteranceWeighting.Equal);
        using var frame = parts.Frame;
        using var total = parts.Total;
        using var utterance = parts.Utterance;
        return frame.item<float>();
    }
}

/// <summary>The rank check (EffectiveRank) against closed forms.</summary>
public class EffectiveRankTests
{
    [Fact]
    public void EqualUncorrelatedChannelsGiveTheirCount()
    {
        // Rows +-e_i: centred, orthogonal columns of equal norm -> equal singular values -> exp(ln 3) = 3.
        using var x = tensor(new double[] { 1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1 }).reshape(6, 3);
        Assert.Equal(3.0, EffectiveRank.Of(x), 6);
    }

    [Fact]
    public void UnequalSingularValuesByHand()
    {
        // Rows (+-3, 0), (0, +-1): singular values sqrt(18) and sqrt(2), p = 3/4 and 1/4,
        // exp(-(3/4 ln 3/4 + 1/4 ln 1/4)) = 1.7548...
        using var x = tensor(new double[] { 3, 0, -3, 0, 0, 1, 0, -1 }).reshape(4, 2);
        double p = 0.75, q = 0.25;
        Assert.Equal(Math.Exp(-(p * Math.Log(p) + q * Math.Log(q))), EffectiveRank.Of(x), 6);
    }

    [Fact]
    public void ACollapsedBatchHasRankOneOrNone()
    {
        // Every row on one line: rank 1. All rows equal: no spread, NaN; a single row: NaN.
        using var line = tensor(new double[] { 1, 2, 2, 4, 3, 6, -1, -2 }).reshape(4, 2);
        Assert.Equal(1.0, EffectiveRank.Of(line), 6);
        using var same = ones(4, 3);
        Assert.True(double.IsNaN(EffectiveRank.Of(same)));
        using var one = ones(1, 3);
        Assert.True(double.IsNaN(EffectiveRank.Of(one)));
    }
}

/// <summary>The clone invariance term (CloneInvariance) by hand.</summary>
public class CloneInvarianceTests
{
    [Fact]
    public void MeanSquaredDistanceOfEachCloneFromItsClipsMean()
    {
        // Clip 0: clones (1, 0), (3, 0), mean (2, 0), squared distances 1, 1. Clip 1: (0, 2), (0, 5), mean (0, 3.5), 2.25, 2.25.
        using var x = tensor(new float[] { 1, 0, 3, 0, 0, 2, 0, 5 }, 4, 2);
        using var term = CloneInvariance.Compute(x, clones: 2);
        Assert.Equal((1 + 1 + 2.25 + 2.25) / 4, term.item<float>(), 5);
        // Clones that agree cost nothing, however far apart the clips are.
        using var agree = tensor(new float[] { 1, 0, 1, 0, 0, 9, 0, 9 }, 4, 2);
        using var none = CloneInvariance.Compute(agree, clones: 2);
        Assert.Equal(0.0, none.item<float>(), 6);
    }
}
