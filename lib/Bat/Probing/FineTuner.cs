using System.Diagnostics;
using Bat.Data;
using Bat.Model;
using Bat.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using AdamW = Bat.Training.AdamW;   // not TorchSharp.Modules.AdamW
using static Bat.KeptScalars;

namespace Bat.Probing;

/// <summary>The rows fine-tuning trains, selects (null: none, the last step is reported) and tests on; <paramref name="Name"/> names the test rows.</summary>
public sealed record FineTuneSplits(string Name, IReadOnlyList<ManifestEntry> Train, IReadOnlyList<ManifestEntry>? Validation, IReadOnlyList<ManifestEntry> Test);

/// <summary>
/// Trains a <see cref="FineTuneModel"/> on audio batches at the task's own length (<see cref="TaskInput"/>) with
/// the recipe's SpecAugment and mixup; best-validation selection, or the last step without a validation split.
/// </summary>
public static class FineTuner
{
    public static ProbeRunResult Train(Encoder encoder, Manifest manifest, TaskInput input, FineTuneConfig config, FineTuneSplits splits,
        string? featureCacheDir = null)
    {
        var device = Devices.Default;
        bool multiLabel = manifest.Task.Kind == TaskKind.Multilabel;
        string selection = TaskMetric.MainFor(manifest.Task.Kind);
        var featurizer = input.Featurizer();
        var model = new FineTuneModel(encoder, manifest.Task.NumClasses, config.HeadDropout, config.DropPath).to(device);
        model.train();

        var groups = model.LayerwiseGroups(config.LayerDecay, config.WeightDecay);
        using var optimizer = new AdamW(
            groups.Select((g, i) => new AdamW.Group(ProbeTrainer.Named(g.Parameters, $"group{i}"), LrScale: g.Scale, WeightDecay: g.WeightDecay)),
            beta1: config.Beta1, beta2: config.Beta2, eps: 1e-8);

        FeatureLoader Loader(string name, IReadOnlyList<ManifestEntry> entries, LoaderOptions options) =>
            new(manifest, name, entries, featurizer, options with { CacheDir = featureCacheDir });
        var trainLoader = Loader("train", splits.Train, LoaderOptions.Train(config.BatchSize, (int)config.Seed, input.Frames) with
        {
            ColourNoiseChance = config.ColourNoiseChance,
            MaxShiftFraction = config.TimeRoll ? 1.0 : 0.0,   // a circular roll by any number of frames
        });
        var validLoader = splits.Validation is { } valid ? Loader("valid", valid, LoaderOptions.Eval(config.EvalBatchSize, input.Frames)) : null;
        var testLoader = Loader(splits.Name, splits.Test, LoaderOptions.Eval(config.EvalBatchSize, input.Frames));

        var random = new Random((int)config.Seed + 17);
        var losses = new List<double>();
        var clock = new Stopwatch();
        ProbeHeadResult? best = null;
        using var bestModel = new BestOnValidation();
        using var progress = new ConsoleProgress("finetune", config.Steps);

        int step = 0;
        for (int epoch = 0; step < config.Steps; epoch++)
        {
            foreach (var batch in trainLoader.Epoch(epoch))
            {
                using var _ = batch;
                if (step >= config.Steps) break;  // leaving the epoch early stops the loader's worker
                clock.Start();
                double lr = LearningRateSchedule.WarmupCosine(step, config.LearningRate, config.WarmupSteps, config.Steps, config.MinLearningRate);
                using (var scope = NewDisposeScope())
                {
                    // As the official DataTransforms: mixup, then the masks.
                    var y = batch.Labels.to(device);
                    var (x, mixed) = Mixup(batch.Features.to(device), y, config, random);
                    x = SpecAugment(x, config, random);
                    var loss = ProbeLosses.For(multiLabel, model.forward(x), mixed);
                    optimizer.ZeroGrad();
                    loss.backward();
                    losses.Add(loss.item<float>());
                    optimizer.Step(lr);   // the moments were created up front, so the scope cannot take them
                }
                clock.Stop();
                step++;
                // Progress on every step, not only on validation steps: a task without a validation split (AS-20k,
                // ESC-50 folds) would otherwise show nothing for its whole run.
                string status = $"loss {losses[^1]:F4}";
                if (validLoader is null)
                {
                    if (step == config.Steps) best = new ProbeHeadResult(0, step, double.NaN, Evaluate(model, testLoader, multiLabel, device));
                }
                else if (BestOnValidation.IsEvaluationStep(step, config.EvaluateEvery, config.Steps))
                {
                    var score = Evaluate(model, validLoader, multiLabel, device);
                    if (bestModel.Offer(model, score[selection]))
                        best = new ProbeHeadResult(0, step, score[selection], Evaluate(model, testLoader, multiLabel, device));
                    status += $" val {selection} {score[selection]:F2}";
                }
                progress.Report(step, status);
            }
        }
        bestModel.Restore(model);
        model.eval();
        return new ProbeRunResult(ProbeCatalog.FineTune, model.parameters().Sum(p => p.numel()), clock.Elapsed.TotalSeconds,
            config.Steps, selection, [best!], null, losses);
    }

    static Dictionary<string, double> Evaluate(FineTuneModel model, FeatureLoader loader, bool multiLabel, Device device)
    {
        model.eval();
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var logits = new List<Tensor>();
            var targets = new List<Tensor>();
            foreach (var batch in loader.Epoch())
            {
                using var b = batch;
                logits.Add(model.forward(b.Features.to(device)).cpu());
                targets.Add(b.Labels.cpu().clone());
            }
            return ProbeScores.Compute(multiLabel, cat(logits, 0), cat(targets, 0));
        }
        finally { model.train(); }
    }

    /// <summary>
    /// torchaudio's FrequencyMasking(FreqMaskBins, iid) then TimeMasking(TimeMaskFrames, iid), <see cref="FineTuneConfig.MaskRepeats"/>
    /// times: per clip a width floor(u * param) from floor(v * (size - u * param)), u, v ~ U[0, 1), zero-filled (param at most
    /// the axis size). (B, 1, T, M).
    /// </summary>
    public static Tensor SpecAugment(Tensor features, FineTuneConfig config, Random random)
    {
        var x = features.clone();
        long b = x.shape[0], t = x.shape[2], m = x.shape[3];
        using var _ = no_grad();
        (int Start, int Width) Mask(int param, long size)
        {
            double value = random.NextDouble() * Math.Min(param, size);
            double start = random.NextDouble() * (size - value);
            return ((int)start, (int)value);   // torchaudio: [long(start), long(start) + long(value))
        }
        for (int r = 0; r < config.MaskRepeats; r++)
            for (long i = 0; i < b; i++)
            {
                var (f0, fw) = Mask(config.FreqMaskBins, m);
                if (fw > 0) x[i, TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(f0, f0 + fw)] = 0;
                var (t0, tw) = Mask(config.TimeMaskFrames, t);
                if (tw > 0) x[i, TensorIndex.Colon, TensorIndex.Slice(t0, t0 + tw)] = 0;
            }
        return x;
    }

    /// <summary>With probability p: lambda ~ Beta(a, a); x = lambda x + (1 - lambda) x[perm], y likewise.</summary>
    public static (Tensor X, Tensor Y) Mixup(Tensor x, Tensor y, FineTuneConfig config, Random random)
    {
        if (random.NextDouble() >= config.MixupProbability) return (x, y);
        double lambda = SampleBeta(config.MixupAlpha, random);
        var order = Enumerable.Range(0, (int)x.shape[0]).ToArray();
        random.Shuffle(order);
        using var perm = tensor(order.Select(i => (long)i).ToArray(), device: x.device);
        using Scalar keep = lambda, mix = 1 - lambda;   // kept alive for the calls: see ScalarLifetimeGuardTests
        return (x.mul(keep).add(x.index_select(0, perm).mul(mix), One), y.mul(keep).add(y.index_select(0, perm).mul(mix), One));
    }

    /// <summary>Beta(a, a) as G1 / (G1 + G2) with Gamma(a, 1) draws.</summary>
    public static double SampleBeta(double a, Random random)
    {
        double g1 = SampleGamma(a, random), g2 = SampleGamma(a, random);
        return g1 / (g1 + g2);
    }

    /// <summary>Marsaglia-Tsang Gamma(a, 1); for a &lt; 1 uses Gamma(a + 1) * U^(1/a).</summary>
    static double SampleGamma(double a, Random random)
    {
        if (a < 1) return SampleGamma(a + 1, random) * Math.Pow(random.NextDouble(), 1 / a);
        double d = a - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double z, v;
            do
            {
                // Standard normal via Box-Muller.
                z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                v = 1 + c * z;
            } while (v <= 0);
            v = v * v * v;
            double u = random.NextDouble();
            if (Math.Log(u) < 0.5 * z * z + d - d * v + d * Math.Log(v)) return d * v;
        }
    }
}
