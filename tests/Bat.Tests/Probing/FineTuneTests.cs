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
    public void LayerDecayZeroTrainsTheHeadAloneAndNoAugmentationLeavesTheInputAsItIs()
    {
        var config = EncoderConfig.Tiny with { Dim = 32, Heads = 2, Depth = 3 };
        using var model = new FineTuneModel(new Encoder(config), classes: 5);
        var groups = model.LayerwiseGroups(layerDecay: 0, weightDecay: 0.05);
        // 0^0 = 1 for the head and the input norm (depth + 1), 0 for every block and the embedding: a frozen encoder.
        var headNames = model.named_parameters().Where(np => !np.name.StartsWith("encoder.") || np.name.StartsWith("encoder.pre_norm"))
            .Select(np => np.parameter.Handle).ToHashSet();
        foreach (var (parameters, scale, _) in groups)
            foreach (var p in parameters) Assert.Equal(headNames.Contains(p.Handle) ? 1.0 : 0.0, scale);

        var recipe = TaskRecipe.OfficialFineTuning(RecipeFamily.SpeechCommands);
        Assert.True(recipe.Augments);
        var plain = recipe.WithoutAugmentation();
        Assert.False(plain.Augments);
        Assert.Equal((recipe.LearningRate, recipe.MixupProbability, recipe.Steps), (plain.LearningRate, plain.MixupProbability, plain.Steps));
        using var x = randn(3, 1, 40, 16);
        using var same = FineTuner.SpecAugment(x, plain, new Random(1));
        Assert.True(same.equal(x).all().item<bool>());
        using var masked = FineTuner.SpecAugment(x, recipe with { FreqMaskBins = 8 }, new Random(1));
        Assert.False(masked.equal(x).all().item<bool>());
    }

    [Fact]
    public void MixupDrawsBetaWeightsAndMixesInputsAndTargetsAlike()
    {
        var random = new Random(5);
        var draws = Enumerable.Range(0, 20000).Select(_ => FineTuner.SampleBeta(0.8, random)).ToArray();
        // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)) = 0.0962 for a = 0.8.
        Assert.Equal(0.5, draws.Average(), 2);
        Assert.Equal(1 / (4 * 2.6), draws.Select(d => (d - 0.5) * (d - 0.5)).Average(), 2);

        var config = TaskRecipe.OfficialFineTuning(RecipeFamily.AudioSet) with { MixupProbability = 1 };
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
    public void SpecAugmentMasksAsTorchaudioIidMasksWithTheRecipesParameters()
    {
        // ESC-50 / SC-v2: one mask of up to 16 bins and one of up to 32 frames per clip (widths floor(u * param)).
        var config = TaskRecipe.OfficialFineTuning(RecipeFamily.Esc50);
        Assert.Equal((16, 32, 1), (config.FreqMaskBins, config.TimeMaskFrames, config.MaskRepeats));
        const int clips = 400, frames = 100, bins = 64;
        using var x = ones(clips, 1, frames, bins);
        using var masked = FineTuner.SpecAugment(x, config, new Random(2));
        var binWidths = new List<long>();
        var frameWidths = new List<long>();
        for (int i = 0; i < clips; i++)
        {
            using var scope = NewDisposeScope();
            var clip = masked[i, 0];                                  // (T, M)
            // dim: named, because a literal 0 binds to sum(ScalarType) (0 = Byte) and sums everything into one byte.
            long zeroBins = (clip.sum(dim: 0) == 0).sum().item<long>();    // mel bins zero in every frame
            long zeroFrames = (clip.sum(dim: 1) == 0).sum().item<long>();  // frames zero in every bin
            // Only the band and the span are zeroed, everything else is untouched.
            Assert.Equal(zeroBins * frames + zeroFrames * bins - zeroBins * zeroFrames, (clip == 0).sum().item<long>());
            binWidths.Add(zeroBins);
            frameWidths.Add(zeroFrames);
        }
        // floor(u * 16) is uniform on 0..15 (mean 7.5), floor(u * 32) on 0..31 (mean 15.5); 400 draws: std of the mean < 0.5.
        Assert.Equal(15, binWidths.Max());
        Assert.Equal(31, frameWidths.Max());
        Assert.InRange(binWidths.Average(), 7.5 - 1, 7.5 + 1);
        Assert.InRange(frameWidths.Average(), 15.5 - 2, 15.5 + 2);
        Assert.Equal(clips * frames * bins, x.sum().item<float>());   // the input is untouched

        // AS-20k: two rounds of masks of up to 64 frames: up to two separate spans.
        var twice = TaskRecipe.OfficialFineTuning(RecipeFamily.AudioSet) with { FreqMaskBins = 1 };
        using var y = ones(50, 1, 400, 8);
        using var maskedTwice = FineTuner.SpecAugment(y, twice, new Random(3));
        long maxFrames = Enumerable.Range(0, 50).Max(i => (maskedTwice[i, 0].sum(dim: 1) == 0).sum().item<long>());
        Assert.InRange(maxFrames, 64, 2 * 63);   // more than one mask can give
    }

    [Fact]
    public void DropPathRisesLinearlyOverTheBlocksAndOnlyActsInTraining()
    {
        var config = EncoderConfig.Tiny with { Dim = 32, Heads = 2, Depth = 3 };
        manual_seed(1);
        using var encoder = new Encoder(config);
        using var model = new FineTuneModel(encoder, classes: 4, headDropout: 0.2, dropPath: 0.1);
        Assert.Equal(new[] { 0.0, 0.05, 0.1 }, encoder.DropPaths.Select(p => Math.Round(p, 12)).ToArray());
        using var features = randn(6, 1, 32, config.MelBins);
        model.eval();
        using var a = model.forward(features);
        using var b = model.forward(features);
        Assert.True(a.allclose(b, 0, 0));                       // eval: no drop path, no dropout
        model.train();
        encoder.SetDropPath(0.9);
        using var c = model.forward(features);
        Assert.False(c.allclose(a, 1e-4, 1e-4));       // training with drop path: other outputs
        encoder.SetDropPath(0);
    }
}
