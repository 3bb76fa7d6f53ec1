using Bat.Data;
using Bat.Metrics;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// Task metrics of a probe's logits, in percent like the paper's tables. Multi-label: "map" (macro mAP over
/// classes with positives) and "f1_macro" (threshold 0.5 on sigmoid, zero_division 0). Single-label:
/// "accuracy", "top5" (when there are more than 5 classes), "map" (one-vs-rest on softmax) and "f1_macro".
/// Both also give "support", the number of clips scored, so a reader can tell a difference from noise.
/// </summary>
public static class ProbeScores
{
    public static Dictionary<string, double> Compute(bool multiLabel, Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var probabilities = multiLabel ? logits.sigmoid() : logits.softmax(-1);
        var scores = ClassificationMetrics.ToArray(probabilities);
        var truth = ClassificationMetrics.ToArray(targets);
        var result = new Dictionary<string, double> { ["support"] = scores.GetLength(0) };
        if (multiLabel)
        {
            result[TaskMetric.MeanAveragePrecision] = 100 * ClassificationMetrics.MacroMeanAveragePrecision(scores, truth).Value;
            result[TaskMetric.MacroF1] = 100 * ClassificationMetrics.MacroF1(scores, truth, threshold: 0.5, zeroDivision: 0);
        }
        else
        {
            var labels = ClassificationMetrics.LabelsFromOneHot(truth);
            result[TaskMetric.Accuracy] = 100 * ClassificationMetrics.Accuracy(scores, labels);
            if (scores.GetLength(1) > 5) result["top5"] = 100 * ClassificationMetrics.TopKAccuracy(scores, labels, 5);
            result[TaskMetric.MeanAveragePrecision] = 100 * ClassificationMetrics.MacroMeanAveragePrecision(scores, truth).Value;
            result[TaskMetric.MacroF1] = 100 * ClassificationMetrics.MacroF1(scores, labels, zeroDivision: 0);
        }
        return result;
    }
}
