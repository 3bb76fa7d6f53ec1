using Bat.Probing;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Tests.Probing;

public class ProbeModuleTests
{
    const int B = 3, L = 4, N = 6, D = 8, C = 5;

    static LayerEmbeddings RandomFeatures(int seed = 1)
    {
        manual_seed(seed);
        return new LayerEmbeddings(randn(B, L, D), randn(B, L, N, D));
    }

    static Tensor Param(nn.Module module, string name) => module.named_parameters().Single(p => p.name == name).parameter;

    [Fact]
    public void EveryProbeMapsLayerFeaturesToLogits()
    {
        var x = RandomFeatures();
        Probe[] probes =
        {
            new ConvexGatedProbe(L, D, prototypes: 7, C), new ConvexGatedProbe(L, D, 7, C, useCls: false),
            new LinearProbe(D, C), new LayerGatedClsProbe(L, D, C), new Head2ToeProbe(L, D, C), new ProtoBinProbe(D, 7, C),
        };
        foreach (var probe in probes)
        {
            using var logits = probe.forward(x);
            Assert.Equal(new long[] { B, C }, logits.shape);
        }
        using var perLayer = new LayerwiseLinearProbe(L, D, C).forward(x);
        Assert.Equal(new long[] { B, L, C }, perLayer.shape);
        // CGP: gate L + prototypes K*D + classifier 3K*C + C.
        Assert.Equal(L + 7 * D + 3 * 7 * C + C, probes[0].ParameterCount);
    }

    [Fact]
    public void CgpGateIsAConvexCombinationOfNormalisedLayers()
    {
        var probe = new ConvexGatedProbe(layers: 2, dim: 3, prototypes: 4, classes: 2);
        Assert.Equal(new[] { 0.5f, 0.5f }, probe.GateWeights());     // init ones -> uniform
        probe.SetGateLogits(new[] { 0f, MathF.Log(3) });               // softmax -> (1/4, 3/4)
        var alpha = probe.GateWeights();
        Assert.Equal(1.0, alpha.Sum(), 6);
        Assert.Equal(0.25, alpha[0], 6);
        // Hand-made layers: layer 0 holds 2*e1, layer 1 holds 5*e2; after L2-normalisation e1 and e2.
        using var layers = tensor(new float[] { 2, 0, 0, 0, 5, 0 }, 1, 2, 3);  // (B=1, L=2, D=3)
        using var mixed = probe.MixLayers(layers);
        Assert.Equal(new[] { 0.25f, 0.75f, 0f }, mixed.data<float>().ToArray().Select(v => MathF.Round(v, 6)).ToArray());
    }

    [Fact]
    public void CgpPoolsTheLeastAndMostSimilarTokensAndTheClsScore()
    {
        var probe = new ConvexGatedProbe(layers: 1, dim: 2, prototypes: 1, classes: 2);
        using (no_grad()) Param(probe, "prototypes").copy_(tensor(new float[] { 3, 0 }, 1, 2));  // direction e1
        // Three tokens at angles 90, 0 and 120 degrees; CLS at 60 degrees.
        float Cos(double degrees) => (float)Math.Cos(degrees * Math.PI / 180);
        float Sin(double degrees) => (float)Math.Sin(degrees * Math.PI / 180);
        var patches = tensor(new[] { 0f, 4f, 2f, 0f, Cos(120), Sin(120) }, 1, 1, 3, 2);  // (B, L, N, D)
        var cls = tensor(new[] { 7 * Cos(60), 7 * Sin(60) }, 1, 1, 2);                 // (B, L, D)
        using var pooled = probe.PooledFeatures(new LayerEmbeddings(cls, patches));
        var values = pooled.data<float>().ToArray();
        Assert.Equal(-0.5f, values[0], 5);  // min: the 120-degree token
        Assert.Equal(0.5f, values[1], 5);   // CLS
        Assert.Equal(1.0f, values[2], 5);   // max: the 0-degree token

        var noCls = new ConvexGatedProbe(layers: 1, dim: 2, prototypes: 1, classes: 2, useCls: false);
        using (no_grad()) Param(noCls, "prototypes").copy_(tensor(new float[] { 1, 0 }, 1, 2));
        using var pooledNoCls = noCls.PooledFeatures(new LayerEmbeddings(cls, patches));
        Assert.Equal(new[] { -0.5f, MathF.Round(0.5f / 3, 5), 1.0f }, pooledNoCls.data<float>().ToArray().Select(v => MathF.Round(v, 5)).ToArray());
    }

    [Fact]
    public void ProtoBinForwardIsTheSignAndItsGradientPassesStraightThroughTheNormalisation()
    {
        var probe = new ProtoBinProbe(dim: 4, prototypes: 2, classes: 3);
        var p = Param(probe, "prototypes");
        using (no_grad()) p.copy_(tensor(new float[] { 0.3f, 0f, 2f, -5f, -0.2f, 0.1f, 0.4f, -0.6f }, 2, 4));
        using var binary = probe.BinarisedPrototypes();
        // Signs +-1 (+1 at 0) scaled to unit norm: +-1/2 for D = 4.
        Assert.Equal(new[] { 0.5f, 0.5f, 0.5f, -0.5f, -0.5f, 0.5f, 0.5f, -0.5f }, binary.data<float>().ToArray());
        // d/dP sum(W * normalize(b)) with the identity through the sign: (W - (W.u) u) / ||b||, u = b / ||b||, ||b|| = 2
        // (skipping the normalisation would give W itself). Row 0: W = (0, 1, 2, 7), u = (1, 1, 1, -1)/2, W.u = -2
        // -> (W + 2u) / 2 = (0.5, 1, 1.5, 3). Row 1: W = (4, 5, 6, 7), u = (-1, 1, 1, -1)/2, W.u = 0 -> W / 2.
        using var w = tensor(new float[] { 0, 1, 2, 7, 4, 5, 6, 7 }, 2, 4);
        using var objective = (binary * w).sum();
        objective.backward();
        Assert.Equal(new[] { 0.5f, 1f, 1.5f, 3f, 2f, 2.5f, 3f, 3.5f }, p.grad!.data<float>().ToArray());
    }

    [Fact]
    public void AsymmetricLossOnAHandComputedCase()
    {
        // Logits [[0, 2], [-1, 1]], targets [[1, 0], [0, 1]]; L = -mean over batch and classes of
        // [y log p + (1 - y) p log(1 - p)], the weight p of a negative taken as a constant.
        double S(double x) => 1 / (1 + Math.Exp(-x));
        double first = -Math.Log(S(0)) - S(2) * Math.Log(1 - S(2));
        double second = -S(-1) * Math.Log(1 - S(-1)) - Math.Log(S(1));
        using var logits = tensor(new float[] { 0, 2, -1, 1 }, 2, 2).requires_grad_(true);
        using var targets = tensor(new float[] { 1, 0, 0, 1 }, 2, 2);
        using var loss = ProbeLosses.AsymmetricLoss(logits, targets);
        Assert.Equal((first + second) / 4, loss.item<float>(), 1e-5);
        // Gradients over the 4 cells: positive -(1 - p) / 4; negative p * p / 4 (d -log(1 - p)/dx = p, times the
        // constant weight p; through the weight it would be larger).
        loss.backward();
        var grad = logits.grad!.data<float>().ToArray();
        Assert.Equal(-(1 - S(0)) / 4, grad[0], 1e-6);
        Assert.Equal(S(2) * S(2) / 4, grad[1], 1e-6);

        // Per-head logits (B, H, C) sum the heads' losses.
        using var twoHeads = stack(new[] { logits.detach(), logits.detach() }, 1);
        using var headLoss = ProbeLosses.AsymmetricLoss(twoHeads, targets);
        Assert.Equal((first + second) / 2, headLoss.item<float>(), 1e-5);

        // Cross-entropy: -log softmax([0, 2])[1].
        using var ce = ProbeLosses.SoftmaxCrossEntropy(logits.detach().narrow(0, 0, 1), tensor(new float[] { 0, 1 }, 1, 2));
        Assert.Equal(-Math.Log(Math.Exp(2) / (1 + Math.Exp(2))), ce.item<float>(), 1e-5);
    }

    [Fact]
    public void Head2ToePenaltyIsTheGroupLassoOverInputFeaturesScaledBySqrtClasses()
    {
        var probe = new Head2ToeProbe(layers: 2, dim: 2, classes: 2, groupLasso: 0.5);
        var weight = Param(probe, "classifier.weight");
        using (no_grad()) weight.copy_(tensor(new float[] { 3, 4, 0, 1, 4, 3, 0, 0 }, 2, 4));
        using var penalty = probe.Penalty();
        // Column norms 5, 5, 0, 1; lambda sqrt(C) = 0.5 sqrt(2).
        Assert.Equal(0.5 * Math.Sqrt(2) * 11, penalty.item<float>(), 5);
        penalty.backward();
        // d/dW = lambda sqrt(C) W_:,j / ||W_:,j||; the all-zero column gets 0, not NaN.
        var grad = weight.grad!.data<float>().ToArray();
        Assert.Equal(0.5 * Math.Sqrt(2) * 3 / 5, grad[0], 5);
        Assert.Equal(0f, grad[2]);
        Assert.All(grad, g => Assert.True(float.IsFinite(g)));
        // Per layer (D = 2 columns each) the Frobenius norms: sqrt(9 + 16 + 16 + 9) and 1.
        Assert.Equal(new[] { MathF.Sqrt(50), 1f }, probe.LayerWeightNorms());
    }

    [Fact]
    public void LcgpStartsAsAUniformMixAndOnlyClassifierWeightsDecay()
    {
        var probe = new LayerGatedClsProbe(L, D, C);
        Assert.All(probe.GateWeights(), a => Assert.Equal(1.0f / L, a, 6));
        var cgp = new ConvexGatedProbe(L, D, 3, C);
        Assert.Same(Param(cgp, "classifier.weight"), cgp.ClassifierWeights().Single());
    }
}
