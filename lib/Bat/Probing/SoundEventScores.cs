using Bat.Data;
using Bat.Metrics;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// What a sound event detection task is scored on, as the official DCASE 2016 task 2 recipe does
/// (houtan-ghaffari/BAT_ICML2026 engine/evaluator.py), in percent. From the frame-wise logits (N, T, C) and targets:
/// "f1_micro", "map_micro" (evaluate_dcase_val, the validation metrics; map_micro selects the checkpoint),
/// "f1_macro", "map_macro" (over the N x T patches; F1 at torch's round(), so p = 0.5 is negative); and with the
/// clips' annotated events the official test metric (eval_test_set_dcase): events detected by
/// <see cref="SoundEventMetrics.Detect"/> scored event-based, onset only, collar 200 ms: "onset_f1_micro" (the
/// main one), "onset_precision_micro", "onset_recall_micro". "support" is the number of clips.
/// </summary>
public static class SoundEventScores
{
    public const string OnsetF1 = "onset_f1_micro", SelectionMetric = "map_micro";

    /// <summary>The threshold that makes ">= threshold" torch's round() of a float probability: 0.5 itself rounds (half to even) to 0.</summary>
    static readonly double RoundThreshold = Math.BitIncrement(0.5);

    public static Dictionary<string, double> Compute(Tensor logits, Tensor targets, IReadOnlyList<IReadOnlyList<SoundEvent>>? reference,
        IReadOnlyList<string> classes, int patchMs)
    {
        using var scope = NewDisposeScope();
        if (logits.dim() != 3 || !logits.shape.SequenceEqual(targets.shape))
            throw new ArgumentException($"expected frame logits and targets (N, T, C) of one shape, got [{string.Join(",", logits.shape)}] and [{string.Join(",", targets.shape)}]");
        long n = logits.shape[0], t = logits.shape[1], c = logits.shape[2];
        var probabilities = logits.sigmoid();
        var frames = ClassificationMetrics.ToArray(probabilities.reshape(n * t, c));   // (N*T, C)
        var truth = ClassificationMetrics.ToArray(targets.reshape(n * t, c));
        var result = new Dictionary<string, double>
        {
            ["support"] = n,
            ["f1_micro"] = 100 * ClassificationMetrics.MicroF1(frames, truth, RoundThreshold, zeroDivision: 0),
            [SelectionMetric] = 100 * ClassificationMetrics.MicroAveragePrecision(frames, truth),
            ["f1_macro"] = 100 * ClassificationMetrics.MacroF1(frames, truth, RoundThreshold, zeroDivision: 0),
            ["map_macro"] = 100 * ClassificationMetrics.MacroMeanAveragePrecision(frames, truth).Value,
        };
        if (reference is null) return result;
        if (reference.Count != n) throw new ArgumentException($"{reference.Count} clips of reference events for {n} clips of logits");
        var detected = new List<IReadOnlyList<SoundEvent>>();
        var clip = new float[t, c];
        for (int i = 0; i < n; i++)
        {
            Buffer.BlockCopy(frames, (int)(i * t * c * sizeof(float)), clip, 0, (int)(t * c * sizeof(float)));
            detected.Add(SoundEventMetrics.Detect(clip, classes, patchMs));
        }
        var events = SoundEventMetrics.OnsetBased(reference, detected);
        result[OnsetF1] = 100 * events.F1;
        result["onset_precision_micro"] = 100 * events.Precision;
        result["onset_recall_micro"] = 100 * events.Recall;
        return result;
    }
}
