using System.Diagnostics;
using Bat.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using AdamW = Bat.Training.AdamW;   // not TorchSharp.Modules.AdamW
using static Bat.KeptScalars;

namespace Bat.Probing;

/// <summary>Test metrics of one head at its best-validation evaluation.</summary>
public sealed record ProbeHeadResult(int Head, int BestStep, double ValidationScore, IReadOnlyDictionary<string, double> Test);

/// <summary>The outcome of training one probe: per-head test metrics, cost, and the gate of the selected checkpoint.</summary>
public sealed record ProbeRunResult(
    string Probe,
    long Parameters,
    double TrainSeconds,
    int Steps,
    string SelectionMetric,
    IReadOnlyList<ProbeHeadResult> Heads,
    float[]? GateWeights,
    IReadOnlyList<double> LossCurve)
{
    /// <summary>The single head's test metrics (most probes have one head).</summary>
    public IReadOnlyDictionary<string, double> Test => Heads[0].Test;
}

/// <summary>
/// Trains a <see cref="Probe"/> on frozen features: AdamW with decay on the classifier weights only, warm-up +
/// cosine schedule, evaluation on the validation split every few steps, and best-validation selection: the
/// reported test metrics are those of the evaluation with the best validation score (per head), and the probe
/// ends holding the parameters of the evaluation with the best mean validation score. A task without a
/// validation split is scored on test once, after the last step (the probe keeps its last parameters).
/// </summary>
public static class ProbeTrainer
{
    /// <summary>Names for the optimizer's state (only used to match state on load).</summary>
    internal static List<(string Name, Parameter P)> Named(IEnumerable<Parameter> parameters, string prefix) =>
        parameters.Select((p, i) => ($"{prefix}.{i}", p)).ToList();

    public static ProbeRunResult Train(Probe probe, ProbeTask task, ProbeTrainingConfig config, Device? device = null)
    {
        config.Validate();
        device ??= Devices.Default;
        probe.to(device);
        probe.train();

        var decayed = probe.ClassifierWeights().ToList();
        var rest = probe.parameters().Where(p => !decayed.Any(d => ReferenceEquals(d, p))).ToList();
        var groups = new List<AdamW.Group> { new(Named(decayed, "decayed"), LrScale: 1.0, WeightDecay: config.WeightDecay) };
        if (rest.Count > 0) groups.Add(new(Named(rest, "rest"), LrScale: 1.0, WeightDecay: 0.0));
        using var optimizer = new AdamW(groups, config.Beta1, config.Beta2, eps: 1e-8);

        int heads = probe.Heads;
        var bestScore = Enumerable.Repeat(double.NegativeInfinity, heads).ToArray();
        var results = new ProbeHeadResult?[heads];
        using var best = new BestOnValidation();
        var losses = new List<double>();

        // Epochs drawn one after the other from one generator seeded by the run's seed.
        var random = new Random((int)(config.Seed ^ (config.Seed >> 32)));
        var shuffler = new EpochShuffler(task.Train.Count, (_, order) => random.Shuffle(order));
        var clock = new Stopwatch();
        using var progress = new ConsoleProgress($"probe {probe.GetName()}", config.Steps);
        for (int step = 0; step < config.Steps; step++)
        {
            clock.Start();
            double lr = LearningRateSchedule.WarmupCosine(step, config.LearningRate, config.WarmupSteps, config.Steps, config.MinLearningRate);
            using (var scope = NewDisposeScope())
            {
                var rows = shuffler.Batch((long)step * config.BatchSize, config.BatchSize);
                var x = task.Train.Embeddings.Gather(rows, probe.UsesPatches, device);
                using var index = tensor(rows.Select(r => (long)r).ToArray());
                var y = task.Train.Labels.index_select(0, index).to(device);
                var loss = task.Loss(probe.forward(x), y);
                if (probe.Penalty() is { } penalty) loss = loss.add(penalty, One);
                optimizer.ZeroGrad();
                loss.backward();
                losses.Add(loss.item<float>());
                optimizer.Step(lr);
            }
            clock.Stop();

            if (task.Validation is null)
            {
                // No validation split: the last step's test score (the official recipe for ESC-50 folds and AS-20k).
                if (step + 1 < config.Steps)
                {
                    progress.Report(step + 1, $"loss {losses[^1]:F4}");   // drawn at most every 5 s (0.2 s on a terminal)
                    continue;
                }
                using var finalScope = NewDisposeScope();
                var finalLogits = Predict(probe, task.Test.Embeddings, config.EvalBatchSize, device);
                for (int h = 0; h < heads; h++)
                    results[h] = new ProbeHeadResult(h, step + 1, double.NaN, task.Score(Head(finalLogits, h, heads), task.Test));
                progress.Report(step + 1, $"loss {losses[^1]:F4}");
                continue;
            }
            if (!BestOnValidation.IsEvaluationStep(step + 1, config.EvaluateEvery, config.Steps))
            {
                progress.Report(step + 1, $"loss {losses[^1]:F4}");
                continue;
            }
            using var evalScope = NewDisposeScope();
            var valLogits = Predict(probe, task.Validation.Embeddings, config.EvalBatchSize, device);
            var valScores = HeadScores(task, valLogits, task.Validation, heads);
            var improved = Enumerable.Range(0, heads)
                .Where(h => results[h] is null || valScores[h] > bestScore[h]).ToList();
            if (improved.Count > 0)
            {
                var testLogits = Predict(probe, task.Test.Embeddings, config.EvalBatchSize, device);
                foreach (var h in improved)
                {
                    bestScore[h] = valScores[h];
                    results[h] = new ProbeHeadResult(h, step + 1, valScores[h],
                        task.Score(Head(testLogits, h, heads), task.Test));
                }
            }
            double mean = valScores.Average();
            best.Offer(probe, mean);
            progress.Report(step + 1, $"loss {losses[^1]:F4} val {task.SelectionMetric} {mean:F2}");
        }

        best.Restore(probe);
        probe.eval();
        return new ProbeRunResult(probe.GetName(), probe.ParameterCount, clock.Elapsed.TotalSeconds, config.Steps,
            task.SelectionMetric, results.Select(r => r!).ToList(), probe.GateWeights(), losses);
    }

    /// <summary>Logits for every row of a split, in eval mode, on the CPU: (N, C), (N, H, C) or frame-wise (N, T, C).</summary>
    public static Tensor Predict(Probe probe, IEmbeddingSource source, int batchSize, Device device)
    {
        bool wasTraining = probe.training;
        probe.eval();
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var parts = new List<Tensor>();
            for (int start = 0; start < source.Count; start += batchSize)
            {
                var rows = Enumerable.Range(start, Math.Min(batchSize, source.Count - start)).ToArray();
                parts.Add(probe.forward(source.Gather(rows, probe.UsesPatches, device)).cpu());
            }
            return cat(parts, 0).MoveToOuterDisposeScope();
        }
        finally { probe.train(wasTraining); }
    }

    static double[] HeadScores(ProbeTask task, Tensor logits, EmbeddingSplit split, int heads) =>
        Enumerable.Range(0, heads)
            .Select(h => task.Score(Head(logits, h, heads), split)[task.SelectionMetric])
            .Select(s => double.IsNaN(s) ? double.NegativeInfinity : s)
            .ToArray();

    /// <summary>One head's logits: (N, C) of (N, H, C); a single head's (N, C), or (N, T, C) frame-wise, whole.</summary>
    static Tensor Head(Tensor logits, int head, int heads) => heads == 1 ? logits : logits.select(1, head);
}
