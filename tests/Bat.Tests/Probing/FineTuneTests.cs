using Bat.Model;
using Bat.Probing;
using static TorchSharp.torch;

namespace Bat.Tests.Probing;

public class FineTuneTests
{
    [Fact]
    public void LayerwiseLearningRatesDecayFromTheHeadDownToThePatchEmbedding()
    {
        var config = EncoderConfig.Tiny with { Dim = 32, Heads = 2, Depth = 3 };
        using var model = new FineTuneModel(new Encoder(config), classes: 5);
        var groups = model.LayerwiseGroups(layerDecay: 0.5, weightDecay: 0.05);
        Assert.Equal(model.parameters().Count(), groups.Sum(g => g.Parameters.Count));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        // Head (depth + 1) gets scale 1, block i gets 0.5^(depth - i), the embedding 0.5^(depth + 1).
        Assert.Equal(new[] { 1.0, 0.5, 0.25, 0.125, 0.0625 }, groups.Select(g => g.Scale).Distinct().OrderDescending().ToArray());
        // Decay only on matrices: the head's bias group has none, its weight group 0.05.
        Assert.Contains(groups, g => g.Scale == 1.0 && g.WeightDecay == 0.05 && g.Parameters.All(p => p.dim() == 2));
        Assert.Contains(groups, g => g.Scale == 1.0 && g.WeightDecay == 0 && g.Parameters.All(p => p.dim() == 1));
    }

    [Fact]
    public void MixupDrawsBetaWeightsAndMixesInputsAndTargetsAlike()
    {
        var random = new Random(5);
        var draws = Enumerable.Range(0, 20000).Select(_ => FineTuner.SampleBeta(0.8, random)).ToArray();
        // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)) = 0.0962 for a = 0.8.
        Assert.Equal(0.5, draws.Average(), 2);
        Assert.Equal(1 / (4 * 2.6), draws.Select(d => (d - 0.5) * (d - 0.5)).Average(), 2);

        var config = FineTuneConfig.Smoke with { MixupProbability = 1 };
        using var x = arange(4, dtype: float32).view(4, 1) * 10;   // clip i holds 10 i
        using var y = eye(4);                                        // one-hot targets
        int mixedRows = 0;
        for (int seed = 0; seed < 5; seed++)
        {
            using var scope = NewDisposeScope();
            var (mx, my) = FineTuner.Mixup(x, y, config, new Random(seed));
            // Each mixed target row sums to 1 and its weights reproduce the mixed input: x' = sum_j w_j 10 j.
            Assert.True(my.sum(1).allclose(ones(4)));
            Assert.True(mx.allclose(matmul(my, x)));
            // One lambda for the batch: every row is lambda e_i + (1 - lambda) e_perm(i), so its weights are {lambda, 1 - lambda}.
            var w = my.data<float>().ToArray();
            var weights = Enumerable.Range(0, 4).Select(i => w.Skip(4 * i).Take(4).Where(v => v > 1e-6).OrderDescending().ToArray()).ToList();
            Assert.All(weights, row => Assert.InRange(row.Length, 1, 2));
            var pairs = weights.Where(row => row.Length == 2).ToList();
            mixedRows += pairs.Count;
            if (pairs.Count > 0) Assert.All(pairs, row => Assert.Equal(pairs[0][0], row[0], 5));
        }
        // An identity Mixup (or one that never fires at probability 1) leaves every row one-hot.
        Assert.True(mixedRows > 0, "Mixup at probability 1 mixed no clip in 5 batches");
    }

    [Fact]
    public void SpecAugmentMasksOneFrequencyBandAndOneTimeSpanPerClip()
    {
        var config = FineTuneConfig.Smoke;
        using var x = ones(8, 1, 40, 16);
        using var masked = FineTuner.SpecAugment(x, config, new Random(2));
        long bandsMasked = 0, spansMasked = 0;
        for (int i = 0; i < 8; i++)
        {
            var clip = masked[i, 0];                                  // (T, M)
            // dim: named, because a literal 0 binds to sum(ScalarType) (0 = Byte) and sums everything into one byte.
            long zeroBins = (clip.sum(dim: 0) == 0).sum().item<long>();    // mel bins zero in every frame
            long zeroFrames = (clip.sum(dim: 1) == 0).sum().item<long>();  // frames zero in every bin
            Assert.InRange(zeroBins, 0, (long)(0.375 * 16));
            Assert.InRange(zeroFrames, 0, (long)(0.1875 * 40));
            // Only the band and the span are zeroed, everything else is untouched.
            long zeros = (clip == 0).sum().item<long>();
            Assert.Equal(zeroBins * 40 + zeroFrames * 16 - zeroBins * zeroFrames, zeros);
            bandsMasked += zeroBins > 0 ? 1 : 0;
            spansMasked += zeroFrames > 0 ? 1 : 0;
        }
        // Widths are drawn from [0, max), so a clip may escape one mask, but not all eight clips both.
        Assert.True(bandsMasked > 0, "no clip had a frequency band masked");
        Assert.True(spansMasked > 0, "no clip had a time span masked");
        Assert.Equal(8 * 40 * 16, x.sum().item<float>());            // the input is untouched
    }
}
