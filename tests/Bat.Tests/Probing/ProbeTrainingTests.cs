using Bat.Probing;
using static TorchSharp.torch;

namespace Bat.Tests.Probing;

/// <summary>Probes learn a trivially separable synthetic task end to end through <see cref="ProbeTrainer"/>.</summary>
public class ProbeTrainingTests
{
    const int L = 3, N = 5, D = 16, C = 4;

    /// <summary>Class k puts direction e_k into one patch token of layer 1 and (weakly) into every CLS; the rest is noise.</summary>
    static EmbeddingSplit MakeSplit(int count, int seed, bool multiLabel)
    {
        var g = new Generator((ulong)seed);
        var cls = randn(new long[] { count, L, D }, generator: g) * 0.3;
        var patches = randn(new long[] { count, L, N, D }, generator: g) * 0.3;
        var targets = zeros(count, C);
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var labels = multiLabel ? Enumerable.Range(0, C).Where(_ => rng.NextDouble() < 0.4).ToList() : new List<int> { rng.Next(C) };
            foreach (var k in labels)
            {
                targets[i, k] = 1;
                patches[i, 1, rng.Next(N), k] += 3;
                cls[i, L - 1, k] += 1;
            }
        }
        return new EmbeddingSplit(new TensorEmbeddingSource(cls, patches), targets);
    }

    static ProbeTask MakeTask(bool multiLabel) =>
        new("synthetic", multiLabel, MakeSplit(256, 1, multiLabel), MakeSplit(64, 2, multiLabel), MakeSplit(64, 3, multiLabel));

    static readonly ProbeTrainingConfig Config = new(Steps: 150, BatchSize: 32, WarmupSteps: 10, EvaluateEvery: 50, LearningRate: 1e-2, Seed: 7);

    [Fact]
    public void CgpLearnsASeparableMultiLabelTaskAndExposesItsGate()
    {
        manual_seed(0);
        var result = ProbeTrainer.Train(new ConvexGatedProbe(L, D, prototypes: 8, C), MakeTask(multiLabel: true), Config, CPU);
        Assert.True(result.Test["map"] > 90, $"mAP {result.Test["map"]:F1}");
        Assert.Equal(L, result.GateWeights!.Length);
        Assert.Equal(1.0, result.GateWeights.Sum(), 5);
        Assert.True(result.LossCurve[^1] < result.LossCurve[0]);
        Assert.InRange(result.Heads[0].BestStep, 50, 150);
    }

    [Fact]
    public void LinearProbeLearnsASeparableMultiClassTask()
    {
        manual_seed(0);
        var result = ProbeTrainer.Train(new LinearProbe(D, C), MakeTask(multiLabel: false), Config, CPU);
        Assert.True(result.Test["accuracy"] > 90, $"accuracy {result.Test["accuracy"]:F1}");
        Assert.Null(result.GateWeights);
    }

    [Fact]
    public void LayerwiseProbeScoresEachLayerSeparately()
    {
        manual_seed(0);
        var result = ProbeTrainer.Train(new LayerwiseLinearProbe(L, D, C), MakeTask(multiLabel: false), Config, CPU);
        Assert.Equal(L, result.Heads.Count);
        // Only the last layer's CLS carries the label; the others are noise (chance = 25 %).
        Assert.True(result.Heads[L - 1].Test["accuracy"] > 90, $"last layer {result.Heads[L - 1].Test["accuracy"]:F1}");
        Assert.True(result.Heads[0].Test["accuracy"] < 60, $"first layer {result.Heads[0].Test["accuracy"]:F1}");
    }
}
