using Bat.Frontends;
using Bat.Pretraining;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Tests.Pretraining;

public class MaskingTests
{
    [Fact]
    public void BaseGridHasFiveCentresAndKeeps102()
    {
        var spec = new MaskSpec(64, 8);
        Assert.Equal(512, spec.Cells);
        Assert.Equal(102, spec.Keep);      // int(512 * 0.2) = int(102.4)
        Assert.Equal(5, spec.Centres);     // floor(512 * 0.27 / 25) = floor(5.5296)
        Assert.Equal(410, spec.Masked);
        var tiny = new MaskSpec(32, 4);
        Assert.Equal(25, tiny.Keep);       // int(25.6)
        Assert.Equal(1, tiny.Centres);     // floor(1.3824)
    }

    [Fact]
    public void BlocksAreFiveByFiveClampedToTheGrid()
    {
        var spec = new MaskSpec(64, 8);
        var interior = InverseBlockMask.MarkBlocks(spec, [(10, 4)]);
        Assert.Equal(25, interior.Count(k => k));
        for (int t = 8; t <= 12; t++) for (int f = 2; f <= 6; f++) Assert.True(interior[t * 8 + f]);
        Assert.Equal(9, InverseBlockMask.MarkBlocks(spec, [(0, 0)]).Count(k => k));   // corner: 3 x 3
        Assert.Equal(15, InverseBlockMask.MarkBlocks(spec, [(10, 7)]).Count(k => k));  // edge: 5 x 3
        Assert.Equal(25 + 9, InverseBlockMask.MarkBlocks(spec, [(10, 4), (63, 7)]).Count(k => k));
    }

    [Fact]
    public void SamplesKeepExactlyKeepDistinctCellsAndComplementIsMasked()
    {
        var spec = new MaskSpec(64, 8);
        var rng = new Random(3);
        for (int i = 0; i < 50; i++)
        {
            var kept = InverseBlockMask.Sample(spec, rng);
            Assert.Equal(102, kept.Length);
            Assert.Equal(102, kept.Distinct().Count());
            Assert.True(kept.Zip(kept.Skip(1)).All(p => p.First < p.Second));
            Assert.All(kept, k => Assert.InRange(k, 0, 511));
        }
        var (keep, masked) = InverseBlockMask.Batch(spec, 4, new Random(1));
        Assert.Equal(new long[] { 4, 102 }, keep.shape);
        Assert.Equal(new long[] { 4, 410 }, masked.shape);
        using var all = cat([keep, masked], 1).sort(1).Values;
        Assert.True(all.eq(arange(512).unsqueeze(0)).all().item<bool>());
    }

    [Fact]
    public void SameSeedSameMasks()
    {
        var spec = new MaskSpec(32, 4);
        Assert.Equal(InverseBlockMask.Sample(spec, new Random(7)), InverseBlockMask.Sample(spec, new Random(7)));
    }
}

public class ObjectiveTests
{
    [Fact]
    public void EmaDecayIsLinearThenConstant()
    {
        Assert.Equal(0.9998, Ema.Decay(0, 0.9998, 0.99999, 100_000), 12);
        Assert.Equal(0.999895, Ema.Decay(50_000, 0.9998, 0.99999, 100_000), 12);
        Assert.Equal(0.99999, Ema.Decay(100_000, 0.9998, 0.99999, 100_000), 12);
        Assert.Equal(0.99999, Ema.Decay(250_000, 0.9998, 0.99999, 100_000), 12);
    }

    [Fact]
    public void EmaUpdateAveragesParametersAndCopiesBuffers()
    {
        using var teacher = nn.Linear(2, 1);
        using var student = nn.Linear(2, 1);
        using (no_grad())
        {
            teacher.weight!.fill_(1); teacher.bias!.fill_(1);
            student.weight!.fill_(3); student.bias!.fill_(-1);
        }
        Ema.Update(teacher, student, 0.9);
        // 0.9 * 1 + 0.1 * 3 = 1.2; 0.9 * 1 + 0.1 * -1 = 0.8
        Assert.All(teacher.weight!.data<float>().ToArray(), w => Assert.Equal(1.2f, w, 6));
        Assert.Equal(0.8f, teacher.bias!.item<float>(), 6);

        using var tEncoder = new Bat.Model.Encoder(Bat.Model.EncoderConfig.Tiny with { Depth = 1 });
        using var sEncoder = new Bat.Model.Encoder(Bat.Model.EncoderConfig.Tiny with { Depth = 1 });
        using (no_grad()) foreach (var (_, b) in tEncoder.named_buffers()) b.zero_();
        Ema.Update(tEncoder, sEncoder, 0.5);
        foreach (var ((_, t), (_, s)) in tEncoder.named_buffers().Zip(sEncoder.named_buffers()))
            Assert.True(t.eq(s).all().item<bool>());
    }

    [Fact]
    public void TargetsInstanceNormAverageAndLayerNorm()
    {
        // One clip, CLS + 2 tokens, D = 2, two layers (the CLS row is garbage that must be dropped).
        using var a = tensor(new float[] { 99, 99, 1, 2, 3, 6 }, 1, 3, 2);
        using var b = tensor(new float[] { -99, 7, 0, 0, 0, 4 }, 1, 3, 2);
        using var y = TeacherTargets.Build([a, b]);
        const double eps = 1e-5;
        // Layer a: channel 0 (1, 3): mean 2, var 1; channel 1 (2, 6): mean 4, var 4.
        // Layer b: channel 0 (0, 0): mean 0, var 0; channel 1 (0, 4): mean 2, var 4.
        double[,] avg =
        {
            { (-1 / Math.Sqrt(1 + eps) + 0) / 2, (-2 / Math.Sqrt(4 + eps) - 2 / Math.Sqrt(4 + eps)) / 2 },
            { (1 / Math.Sqrt(1 + eps) + 0) / 2, (2 / Math.Sqrt(4 + eps) + 2 / Math.Sqrt(4 + eps)) / 2 },
        };
        var got = y.data<float>().ToArray();
        for (int n = 0; n < 2; n++)
        {
            double mean = (avg[n, 0] + avg[n, 1]) / 2;
            double variance = (Math.Pow(avg[n, 0] - mean, 2) + Math.Pow(avg[n, 1] - mean, 2)) / 2;
            for (int d = 0; d < 2; d++)
                Assert.Equal((avg[n, d] - mean) / Math.Sqrt(variance + eps), got[n * 2 + d], 4);
        }
    }

    [Fact]
    public void PixelTargetsNormalisePatchesInTokenOrderThenProject()
    {
        // A 32 x 32 spectrogram -> 2 x 2 patches of 16 x 16; token n = t F + f, as the encoder orders them.
        static double Value(int t, int m) => Math.Sin(0.3 * t + 0.7 * m) + 0.01 * t * m;
        var pixels = new float[32 * 32];
        for (int t = 0; t < 32; t++) for (int m = 0; m < 32; m++) pixels[t * 32 + m] = (float)Value(t, m);
        using var features = tensor(pixels, 1, 1, 32, 32);
        // The projection picks three pixels of each patch: (0, 0), (1, 1) and (15, 15).
        int[] picked = [0, 17, 255];
        var projection = new float[256 * 3];
        for (int j = 0; j < 3; j++) projection[picked[j] * 3 + j] = 1;
        using var matrix = tensor(projection, 256, 3);
        using var y = TeacherTargets.Pixels(features, 16, matrix);
        Assert.Equal(new long[] { 1, 4, 3 }, y.shape);
        var got = y.data<float>().ToArray();
        for (int n = 0; n < 4; n++)
        {
            int t0 = n / 2 * 16, m0 = n % 2 * 16;
            var patch = Enumerable.Range(0, 256).Select(i => Value(t0 + i / 16, m0 + i % 16)).ToArray();
            double mean = patch.Average(), sd = Math.Sqrt(patch.Select(v => (v - mean) * (v - mean)).Average() + 1e-6);
            var chosen = picked.Select(i => (patch[i] - mean) / sd).ToArray();
            double cm = chosen.Average(), cs = Math.Sqrt(chosen.Select(v => (v - cm) * (v - cm)).Average() + 1e-5);
            for (int j = 0; j < 3; j++) Assert.Equal((chosen[j] - cm) / cs, got[n * 3 + j], 3);
        }
    }

    [Fact]
    public void UfoLossMatchesTheHandComputedValue()
    {
        // Two identical rows (S = 2), N = 3 cells, D = 2; cells 1 and 2 masked.
        float[] p = [1, 1, 2, 2, 0, 0], t = [0, 0, 1, 3, 2, 2];
        using var prediction = tensor(p.Concat(p).ToArray(), 2, 3, 2);
        using var targets = tensor(t.Concat(t).ToArray(), 2, 3, 2);
        using var masked = tensor(new long[] { 1, 2, 1, 2 }, 2, 2);
        using var cls = zeros(2, 2);
        // frame: errors (1, -1) at cell 1 and (-2, -2) at cell 2 -> (1 + 1 + 4 + 4) / 4 = 2.5
        // utterance: target means (1, 5/3) vs CLS 0 -> (1 + 25/9) / 2 = 17/9
        var equal = UfoLoss.Compute(prediction, targets, masked, cls, 1.0, UtteranceWeighting.Equal);
        Assert.Equal(2.5, equal.Frame.item<float>(), 5);
        Assert.Equal(17.0 / 9, equal.Utterance.item<float>(), 5);
        Assert.Equal(2.5 + 17.0 / 9, equal.Total.item<float>(), 5);
        // fairseq (EAT): the utterance term is summed over the S = 2 rows.
        var fairseq = UfoLoss.Compute(prediction, targets, masked, cls, 0.5, UtteranceWeighting.Fairseq);
        Assert.Equal(2.5 + 0.5 * 2 * 17.0 / 9, fairseq.Total.item<float>(), 5);
        // Given utterance targets replace the target means: CLS 0 against (1, 2) and (3, 0) -> (1 + 4 + 9) / 4 = 3.5
        using var utterance = tensor(new float[] { 1, 2, 3, 0 }).view(2, 2);
        var given = UfoLoss.Compute(prediction, targets, masked, cls, 1.0, UtteranceWeighting.Equal, utterance);
        Assert.Equal(3.5, given.Utterance.item<float>(), 5);
        Assert.Equal(2.5, given.Frame.item<float>(), 5);
        // The frame weight scales the frame term only: 0 leaves the utterance term, 2 doubles the frame term.
        var noFrame = UfoLoss.Compute(prediction, targets, masked, cls, 1.0, UtteranceWeighting.Equal, frameWeight: 0);
        Assert.Equal(17.0 / 9, noFrame.Total.item<float>(), 5);
        Assert.Equal(2.5, noFrame.Frame.item<float>(), 5);
        var doubled = UfoLoss.Compute(prediction, targets, masked, cls, 0.5, UtteranceWeighting.Fairseq, frameWeight: 2);
        Assert.Equal(2 * 2.5 + 0.5 * 2 * 17.0 / 9, doubled.Total.item<float>(), 5);
    }

    [Fact]
    public void PooledUtteranceAveragesPatchesAndLayersCentresOverTheBatchAndLayerNorms()
    {
        // Two clips, CLS + 2 patches, 3 channels, 2 layers. The CLS (100s) must be ignored.
        // Clip 0: layer means (2, 1, 0) and (2, 1, 0); clip 1: (0, 1, 2) and (0, 1, 2).
        using var layer1 = tensor(new float[] { 100, 100, 100, 1, 1, 0, 3, 1, 0,   100, 100, 100, 0, 2, 2, 0, 0, 2 }).view(2, 3, 3);
        using var layer2 = tensor(new float[] { 100, 100, 100, 2, 1, 0, 2, 1, 0,   100, 100, 100, 0, 1, 1, 0, 1, 3 }).view(2, 3, 3);
        using var u = TeacherTargets.PooledUtterance([layer1, layer2]);
        // Batch mean (1, 1, 1); centred (1, 0, -1) and (-1, 0, 1); LayerNorm: mean 0, biased variance 2/3.
        double s = 1 / Math.Sqrt(2.0 / 3 + 1e-5);
        var expected = new[] { s, 0, -s, -s, 0, s };
        var actual = u.data<float>().ToArray();
        Assert.Equal(new long[] { 2, 3 }, u.shape);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4);
    }

    [Fact]
    public void SpectralTargetIsTheClipsBandStatisticsZScoredProjectedAndLayerNormed()
    {
        // Two clips, 2 frames, 1 mel band: clip 0 (1, 3) has mean 2 and biased std 1; clip 1 (0, 0) mean 0 and std 0.
        using var features = tensor(new float[] { 1, 3, 0, 0 }).view(2, 1, 2, 1);
        using var stats = BandStatistics.Of(features);
        Assert.Equal(new float[] { 2, 1, 0, 0 }, stats.data<float>().ToArray());
        // z-scored with given statistics (mean (1, 0.5), std (1, 0.5)): clip 0 (1, 1), clip 1 (-1, -1); projected onto
        // channels 0 and 1 of 3: (1, 1, 0) and (-1, -1, 0); LayerNorm: mean +-2/3, biased variance 2/9.
        using var mean = tensor(new float[] { 1, 0.5f }).view(1, 2);
        using var std = tensor(new float[] { 1, 0.5f }).view(1, 2);
        using var projection = tensor(new float[] { 1, 0, 0, 0, 1, 0 }).view(2, 3);   // (2M, D) = (2, 3)
        using var u = TeacherTargets.Spectral(features, mean, std, projection);
        double s = 1 / Math.Sqrt(2.0 / 9 + 1e-5), a = s / 3, b = 2 * s / 3;
        var expected = new[] { a, a, -b, -a, -a, b };
        Assert.Equal(new long[] { 2, 3 }, u.shape);
        var actual = u.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4);
    }
}

public class SpreadRegulariserTests
{
    [Fact]
    public void VarianceTermByHand()
    {
        // Rows (1, 0), (-1, 0), (0, 2), (0, -2): unbiased variances 2/3 and 8/3, no covariance.
        // relu(1 - sqrt(2/3 + 1e-4)) = 0.183437..., relu(1 - sqrt(8/3 + 1e-4)) = 0 -> mean 0.0917185...
        using var x = tensor(new float[] { 1, 0, -1, 0, 0, 2, 0, -2 }).reshape(4, 2);
        using var r = SpreadRegulariser.Compute(x);
        double value = r.item<float>();
        Assert.Equal((1 - Math.Sqrt(2.0 / 3 + 1e-4)) / 2, value, 5);
        Assert.Equal(0.0917185, value, 5);
    }

    [Fact]
    public void CovarianceTermByHand()
    {
        // Rows (1, 1), (-1, -1): variances 2 (std above 1, no variance term), covariance 2 twice off the diagonal:
        // (2^2 + 2^2) / D=2 = 4, weighted 1/25 -> 0.16.
        using var x = tensor(new float[] { 1, 1, -1, -1 }).reshape(2, 2);
        using var r = SpreadRegulariser.Compute(x);
        Assert.Equal(0.16, r.item<float>(), 5);
    }

    [Fact]
    public void PositionCentredTokensLoseTheirPositionsMeanByHand()
    {
        // Two clones, two visible tokens each, D = 1, 3 positions. Clone 0 sees positions (0, 2) with tokens (1, 5),
        // clone 1 sees (2, 1) with (7, 4). Position means: 0 -> 1, 1 -> 4, 2 -> (5 + 7) / 2 = 6.
        using var tokens = tensor(new float[] { 1, 5, 7, 4 }).view(2, 2, 1);
        using var keep = tensor(new long[] { 0, 2, 2, 1 }).view(2, 2);
        using var centred = SpreadRegulariser.PositionCentred(tokens, keep, positions: 3);
        Assert.Equal(new long[] { 4, 1 }, centred.shape);
        Assert.Equal(new float[] { 0, -1, 1, 0 }, centred.data<float>().ToArray());
    }

    [Fact]
    public void GainFreeRowsKeepOnlyWhatTellsTheClipsApartByHand()
    {
        // Rows (10, 10.5) and (10.5, 10): as they are, centred +-0.25, unbiased variance 0.125 per channel,
        // relu(1 - sqrt(0.125 + 1e-4)) = 0.64631... each; covariance -0.125 -> (2 * 0.125^2) / 2 / 25 = 0.000625.
        // Gain-free (LayerNorm over the features, no affine): rows (-1, 1) and (1, -1) (to 1e-5: eps 1e-6 against a
        // variance of 0.0625), variance 2 (no variance term), covariance -2 -> 0.16, as for any gain on the rows.
        using var x = tensor(new float[] { 10, 10.5f, 10.5f, 10 }).reshape(2, 2);
        using var raw = SpreadRegulariser.Compute(x);
        Assert.Equal(1 - Math.Sqrt(0.125 + 1e-4) + 0.000625, raw.item<float>(), 5);
        using var normalised = SpreadRegulariser.GainFree(x);
        var rows = normalised.data<float>().ToArray();
        foreach (var (expected, actual) in new[] { -1f, 1, 1, -1 }.Zip(rows)) Assert.Equal(expected, actual, 4);
        using var spread = SpreadRegulariser.Compute(normalised);
        Assert.Equal(0.16, spread.item<float>(), 4);
        using var scaled = x.mul(7.0).add(3.0);
        using var scaledSpread = SpreadRegulariser.Compute(SpreadRegulariser.GainFree(scaled));
        Assert.Equal(spread.item<float>(), scaledSpread.item<float>(), 4); // the same up to LayerNorm's eps (1e-6 against a variance of 0.0625 and of 49 times that)
    }

    [Fact]
    public void ACollapsedBatchCostsOnePerChannel()
    {
        // Every row the same: no spread at all, relu(1 - sqrt(1e-4)) = 0.99 per channel, no covariance.
        using var x = ones(5, 3);
        using var r = SpreadRegulariser.Compute(x);
        Assert.Equal(0.99, r.item<float>(), 5);
    }
}
