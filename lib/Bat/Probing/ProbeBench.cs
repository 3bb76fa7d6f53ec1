using System.Diagnostics;
using Bat.Model;
using Bat.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using AdamW = Bat.Training.AdamW;   // not TorchSharp.Modules.AdamW

namespace Bat.Probing;

/// <summary>
/// Measured costs behind the claim that probing from cached features is cheap (`bat bench probe`), as ratios
/// within one process: CGP steps/s on cached features vs recomputing the frozen encoder every step, and a
/// whole CGP training (embedding the train split once + all probe steps) vs one fine-tuning epoch.
/// </summary>
public sealed record ProbeBenchResult(
    int Batch, int Prototypes, int Clips, int ProbeSteps,
    double CachedStepSeconds, double RecomputeStepSeconds, double EmbedSecondsPerClip, double FineTuneStepSeconds,
    double PoolingSecondsMax, double PoolingSecondsAmax)
{
    /// <summary>How many times faster CGP's pooling (forward + backward) is with max-with-indices than with amax.</summary>
    public double PoolingSpeedup => PoolingSecondsAmax / PoolingSecondsMax;

    /// <summary>How many times faster a CGP step is on cached features than with the encoder in the loop.</summary>
    public double CachedSpeedup => RecomputeStepSeconds / CachedStepSeconds;

    /// <summary>One-time embedding of the train split plus the probe's whole schedule on the cache.</summary>
    public double CgpTrainingSeconds => EmbedSecondsPerClip * Clips + CachedStepSeconds * ProbeSteps;

    /// <summary>One pass of fine-tuning over the train split.</summary>
    public double FineTuneEpochSeconds => FineTuneStepSeconds * Math.Ceiling((double)Clips / Batch);

    /// <summary>Whole CGP training / one fine-tuning epoch (below 1: CGP costs less than a single epoch).</summary>
    public double CgpVsFineTuneEpoch => CgpTrainingSeconds / FineTuneEpochSeconds;
}

public static class ProbeBench
{
    /// <summary>Times <paramref name="timedSteps"/> steps of each kind (after 2 warm-up steps) on a randomly
    /// initialised encoder of this shape and random input features: speed does not depend on the weights.</summary>
    public static ProbeBenchResult Run(EncoderConfig config, int batch, int prototypes, int timedSteps, int clips, int probeSteps,
        int classes = 16, Action<string>? log = null)
    {
        var device = Devices.Default;
        Devices.Seed(0);
        using var encoder = new Encoder(config).to(device);
        encoder.eval();
        foreach (var p in encoder.parameters()) p.requires_grad = false;
        using var inputs = randn(batch, 1, config.Frames, config.MelBins, device: device);    // (B, 1, T, M)
        using Scalar positiveRate = 0.2;   // kept alive for the call: see ScalarLifetimeGuardTests
        using var targets = (rand(batch, classes, device: device) < positiveRate).to(ScalarType.Float32);

        // The cache: one batch of real encoder outputs in an embedding cache file, read back as in training.
        var dir = Directory.CreateTempSubdirectory("bat-bench-probe-").FullName;
        try
        {
            var path = EmbeddingCache.FileFor(dir, "train");
            var header = new EmbeddingCacheHeader(EmbeddingCacheHeader.CurrentVersion, "train", "bench", "bench",
                System.Text.Json.JsonSerializer.SerializeToElement(config, Json.Options), System.Text.Json.JsonSerializer.SerializeToElement(new { }),
                "bench", batch, config.Depth, 1 + config.NumPatches, config.Dim, "float16", Enumerable.Range(0, batch).Select(i => $"clip{i}").ToList());
            double embedSeconds = Time(1, () =>
            {
                EmbeddingCache.Write(path, header, sink =>
                {
                    using var _ = no_grad();
                    using var output = encoder.Forward(inputs);
                    sink(output.Layers);
                });
            });
            log?.Invoke($"embedded {batch} clips in {embedSeconds:F2} s");
            using var cache = EmbeddingCache.Open(path);
            var rows = Enumerable.Range(0, batch).ToArray();

            using var probe = new ConvexGatedProbe(config.Depth, config.Dim, prototypes, classes).to(device);
            using var optimizer = new AdamW([new AdamW.Group(ProbeTrainer.Named(probe.parameters(), "probe"))], 0.9, 0.999, 1e-8);
            void ProbeStep(Func<LayerEmbeddings> features)
            {
                using var scope = NewDisposeScope();
                var loss = ProbeLosses.AsymmetricLoss(probe.forward(features()), targets);
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.Step(1e-3);
            }
            double cached = TimeSteps(timedSteps, () => ProbeStep(() => cache.Gather(rows, true, device)));
            log?.Invoke($"CGP step on cached features: {cached * 1000:F1} ms");
            // CGP's token pooling, forward + backward, as the probe does it (max with indices) and with amax,
            // whose backward compares the whole (B, N, K) similarity tensor against the result.
            using var unitPrototypes = nn.functional.normalize(randn(prototypes, config.Dim, device: device), p: 2, dim: -1);  // (K, D)
            double PoolingStep(bool withIndices) => TimeSteps(timedSteps, () =>
            {
                using var scope = NewDisposeScope();
                var features = cache.Gather(rows, true, device);   // disposed with the scope
                var zbar = probe.MixLayers(features.Patches).detach().requires_grad_(true);  // (B, N, D)
                var sz = matmul(zbar, unitPrototypes.t());                                   // (B, N, K)
                var pooled = withIndices ? sz.max(1).values : sz.amax(new long[] { 1 });     // (B, K)
                pooled.sum().backward();
            });
            double poolingMax = PoolingStep(withIndices: true), poolingAmax = PoolingStep(withIndices: false);
            log?.Invoke($"CGP pooling fwd+bwd: max with indices {poolingMax * 1000:F1} ms, amax {poolingAmax * 1000:F1} ms");
            double recompute = TimeSteps(timedSteps, () => ProbeStep(() =>
            {
                using var _ = no_grad();
                using var output = encoder.Forward(inputs);
                return LayerEmbeddings.FromBlockOutputs(output.Layers);
            }));
            log?.Invoke($"CGP step recomputing the encoder: {recompute * 1000:F1} ms");

            // Fine-tuning step: encoder unfrozen, forward + backward + AdamW on every weight.
            using var tuned = new Encoder(config).to(device);
            using var model = new FineTuneModel(tuned, classes).to(device);
            using var fineOptimizer = new AdamW([new AdamW.Group(ProbeTrainer.Named(model.parameters(), "model"))], 0.9, 0.999, 1e-8);
            double fine = TimeSteps(timedSteps, () =>
            {
                using var scope = NewDisposeScope();
                var loss = ProbeLosses.AsymmetricLoss(model.forward(inputs), targets);
                fineOptimizer.ZeroGrad();
                loss.backward();
                fineOptimizer.Step(3e-4);
            });
            log?.Invoke($"fine-tuning step: {fine * 1000:F1} ms");
            return new ProbeBenchResult(batch, prototypes, clips, probeSteps, cached, recompute, embedSeconds / batch, fine,
                poolingMax, poolingAmax);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Mean seconds per step over <paramref name="steps"/> timed steps after 2 warm-up steps.</summary>
    static double TimeSteps(int steps, Action step)
    {
        for (int i = 0; i < 2; i++) step();
        return Time(steps, step) / steps;
    }

    static double Time(int repeats, Action action)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++) action();
        return clock.Elapsed.TotalSeconds;
    }
}
