using Bat.Pretraining;
using static TorchSharp.torch;

namespace Bat.Tests.Pretraining;

/// <summary>Clone mixing (BYOL-A's power-domain mixup per student clone) against hand-computed values.</summary>
public class CloneMixingTests
{
    [Fact]
    public void EachCloneIsItsClipMixedWithItsPartnerInThePowerDomain()
    {
        // Two clips of 1 x 2 x 1 pixels: clip 0 = (0, 1), clip 1 = (2, -1); two clones each.
        using var x = tensor(new float[] { 0, 1, 2, -1 }, 2, 1, 2, 1);
        long[] other = [1, 1, 0, 0];
        double[] lambda = [0, 0.5, 0.25, 0.9];
        using var views = CloneMixing.Mix(x, clones: 2, other, lambda);
        Assert.Equal(new long[] { 4, 1, 2, 1 }, views.shape);
        double[][] clips = [[0, 1], [2, -1]];
        var got = views.to_type(ScalarType.Float64).data<double>().ToArray();
        for (int s = 0; s < 4; s++)
            for (int t = 0; t < 2; t++)
            {
                double own = clips[s / 2][t], background = clips[other[s]][t];
                double expected = Math.Log((1 - lambda[s]) * Math.Exp(own) + lambda[s] * Math.Exp(background));
                Assert.Equal(expected, got[s * 2 + t], 5);
            }
        Assert.Throws<BatException>(() => CloneMixing.Mix(x, clones: 3, other, lambda));   // 6 rows, 4 draws
    }

    [Fact]
    public void PartnersAreAnotherClipAndWeightsStayBelowTheRatio()
    {
        var (other, lambda) = CloneMixing.Draw(clips: 3, clones: 4, ratio: 0.3, new Random(5));
        Assert.Equal(12, other.Length);
        for (int s = 0; s < 12; s++)
        {
            Assert.InRange(other[s], 0, 2);
            Assert.NotEqual(s / 4, other[s]);
            Assert.InRange(lambda[s], 0, 0.3);
        }
        Assert.Equal(3, other.Distinct().Count());   // every clip is someone's background in 12 draws (seeded)
        Assert.Throws<BatException>(() => CloneMixing.Draw(clips: 1, clones: 4, ratio: 0.3, new Random(5)));
    }
}
