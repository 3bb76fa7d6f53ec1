using static TorchSharp.torch;

namespace Bat.Metrics;

/// <summary>Macro mAP over the classes that have positives, and how many classes were left out for having none.</summary>
public sealed record MeanAveragePrecision(double Value, int ExcludedClasses, double[] PerClass);

/// <summary>
/// Classification metrics computed exactly as scikit-learn 1.2 does, so our numbers are comparable with the
/// paper's python pipeline (tests compare against committed sklearn fixtures). Scores are (N, C) row-major;
/// multi-label targets are (N, C) 0/1; single-label targets are class indices.
/// </summary>
public static class ClassificationMetrics
{
    /// <summary>
    /// sklearn.metrics.average_precision_score for one class: the step-wise sum over distinct score
    /// thresholds (descending) of (R_n - R_{n-1}) * P_n. Tied scores form one threshold, so a tie between a
    /// positive and a negative counts as one step (no interpolation). Returns NaN when there are no positives.
    /// </summary>
    public static double AveragePrecision(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positive)
    {
        int n = scores.Length;
        if (positive.Length != n) throw new ArgumentException($"scores ({n}) and labels ({positive.Length}) differ in length");
        int totalPositives = 0;
        foreach (var p in positive) if (p) totalPositives++;
        if (totalPositives == 0) return double.NaN;

        // sklearn sorts with a stable ascending mergesort and reverses; the order within a tie does not matter
        // because only the cumulative counts at the end of each tie group are used.
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var keys = scores.ToArray();
        Array.Sort(keys, order, Comparer<double>.Create((a, b) => b.CompareTo(a)));

        double ap = 0, previousRecall = 0;
        int truePositives = 0;
        for (int i = 0; i < n; i++)
        {
            if (positive[order[i]]) truePositives++;
            bool endOfTieGroup = i == n - 1 || keys[i + 1] != keys[i];
            if (!endOfTieGroup) continue;
            double precision = (double)truePositives / (i + 1);
            double recall = (double)truePositives / totalPositives;
            ap += (recall - previousRecall) * precision;
            previousRecall = recall;
        }
        return ap;
    }

    /// <summary>
    /// Macro mAP for multi-label targets: AP per class, mean over the classes with at least one positive.
    /// sklearn's average='macro' would instead score a class without positives (with a warning); we leave such
    /// classes out and report how many, as the paper's evaluation does.
    /// </summary>
    public static MeanAveragePrecision MacroMeanAveragePrecision(float[,] scores, float[,] targets)
    {
        var (n, c) = CheckSameShape(scores, targets);
        var perClass = new double[c];
        var column = new double[n];
        var positive = new bool[n];
        double sum = 0;
        int used = 0;
        for (int k = 0; k < c; k++)
        {
            for (int i = 0; i < n; i++) { column[i] = scores[i, k]; positive[i] = targets[i, k] > 0.5f; }
            perClass[k] = AveragePrecision(column, positive);
            if (double.IsNaN(perClass[k])) continue;
            sum += perClass[k];
            used++;
        }
        return new MeanAveragePrecision(used == 0 ? double.NaN : sum / used, c - used, perClass);
    }

    /// <summary>
    /// sklearn f1_score(targets, scores >= threshold, average='macro', zero_division=z) for multi-label
    /// targets: every class counts. Per class precision = TP/(TP+FP) and recall = TP/(TP+FN); a 0/0 in either
    /// becomes <paramref name="zeroDivision"/> (sklearn's default 'warn' behaves as 0), and F1 = 2PR/(P+R)
    /// with F1 = 0 when P + R = 0. So with zeroDivision = 0 a class never predicted and never present scores 0.
    /// </summary>
    public static double MacroF1(float[,] scores, float[,] targets, double threshold = 0.5, double zeroDivision = 0)
    {
        var (n, c) = CheckSameShape(scores, targets);
        var predicted = new bool[n, c];
        var actual = new bool[n, c];
        for (int i = 0; i < n; i++)
        for (int k = 0; k < c; k++)
        {
            predicted[i, k] = scores[i, k] >= threshold;
            actual[i, k] = targets[i, k] > 0.5f;
        }
        return MacroF1(predicted, actual, zeroDivision);
    }

    /// <summary>
    /// sklearn f1_score(targets, scores >= threshold, average='micro', zero_division=z) for multi-label targets: the
    /// true positives, false positives and false negatives of every cell pooled, F1 = 2TP / (2TP + FP + FN).
    /// </summary>
    public static double MicroF1(float[,] scores, float[,] targets, double threshold = 0.5, double zeroDivision = 0)
    {
        var (n, c) = CheckSameShape(scores, targets);
        long tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < n; i++)
        for (int k = 0; k < c; k++)
        {
            bool predicted = scores[i, k] >= threshold, actual = targets[i, k] > 0.5f;
            if (predicted && actual) tp++;
            else if (predicted) fp++;
            else if (actual) fn++;
        }
        return 2 * tp + fp + fn == 0 ? zeroDivision : 2.0 * tp / (2 * tp + fp + fn);
    }

    /// <summary>sklearn average_precision_score(targets, scores, average='micro'): one AP over every cell (NaN without positives).</summary>
    public static double MicroAveragePrecision(float[,] scores, float[,] targets)
    {
        var (n, c) = CheckSameShape(scores, targets);
        var flat = new double[n * c];
        var positive = new bool[n * c];
        for (int i = 0; i < n; i++)
        for (int k = 0; k < c; k++)
        {
            flat[i * c + k] = scores[i, k];
            positive[i * c + k] = targets[i, k] > 0.5f;
        }
        return AveragePrecision(flat, positive);
    }

    /// <summary>sklearn f1_score(y, argmax(scores), labels=range(C), average='macro', zero_division=z) for single-label tasks.</summary>
    public static double MacroF1(float[,] scores, int[] labels, double zeroDivision = 0)
    {
        var (n, c) = CheckRows(scores, labels);
        var predicted = new bool[n, c];
        var actual = new bool[n, c];
        for (int i = 0; i < n; i++)
        {
            predicted[i, ArgMax(scores, i)] = true;
            actual[i, labels[i]] = true;
        }
        return MacroF1(predicted, actual, zeroDivision);
    }

    static double MacroF1(bool[,] predicted, bool[,] actual, double zeroDivision)
    {
        int n = predicted.GetLength(0), c = predicted.GetLength(1);
        double sum = 0;
        for (int k = 0; k < c; k++)
        {
            int tp = 0, predictedCount = 0, actualCount = 0;
            for (int i = 0; i < n; i++)
            {
                if (predicted[i, k]) predictedCount++;
                if (actual[i, k]) actualCount++;
                if (predicted[i, k] && actual[i, k]) tp++;
            }
            double precision = predictedCount == 0 ? zeroDivision : (double)tp / predictedCount;
            double recall = actualCount == 0 ? zeroDivision : (double)tp / actualCount;
            sum += precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        }
        return c == 0 ? double.NaN : sum / c;
    }

    /// <summary>Share of rows whose arg-max score is the label (sklearn accuracy_score; a tie goes to the lowest index, as numpy's argmax).</summary>
    public static double Accuracy(float[,] scores, int[] labels)
    {
        var (n, _) = CheckRows(scores, labels);
        int hits = 0;
        for (int i = 0; i < n; i++) if (ArgMax(scores, i) == labels[i]) hits++;
        return (double)hits / n;
    }

    /// <summary>
    /// sklearn top_k_accuracy_score: the label is among the k highest scores. Like sklearn (stable ascending
    /// sort, reversed), a tie ranks the higher class index first.
    /// </summary>
    public static double TopKAccuracy(float[,] scores, int[] labels, int k)
    {
        var (n, c) = CheckRows(scores, labels);
        if (k < 1) throw new ArgumentException($"k must be >= 1, got {k}");
        int hits = 0;
        for (int i = 0; i < n; i++)
        {
            float own = scores[i, labels[i]];
            // Classes ranked above the label: a higher score, or an equal score with a higher index.
            int above = 0;
            for (int j = 0; j < c; j++)
                if (scores[i, j] > own || (scores[i, j] == own && j > labels[i])) above++;
            if (above < k) hits++;
        }
        return (double)hits / n;
    }

    /// <summary>Class index of each one-hot (or probability) target row.</summary>
    public static int[] LabelsFromOneHot(float[,] targets)
    {
        var labels = new int[targets.GetLength(0)];
        for (int i = 0; i < labels.Length; i++) labels[i] = ArgMax(targets, i);
        return labels;
    }

    /// <summary>Copies a 2-D tensor to a managed (N, C) array (float32 on the CPU).</summary>
    public static float[,] ToArray(Tensor matrix)
    {
        if (matrix.dim() != 2) throw new ArgumentException($"expected a 2-D tensor, got shape [{string.Join(", ", matrix.shape)}]");
        using var cpu = matrix.detach().to(ScalarType.Float32).cpu().contiguous();
        int n = (int)cpu.shape[0], c = (int)cpu.shape[1];
        var flat = cpu.data<float>().ToArray();
        var result = new float[n, c];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    static int ArgMax(float[,] values, int row)
    {
        int best = 0;
        for (int j = 1; j < values.GetLength(1); j++) if (values[row, j] > values[row, best]) best = j;
        return best;
    }

    static (int N, int C) CheckSameShape(float[,] scores, float[,] targets)
    {
        if (scores.GetLength(0) != targets.GetLength(0) || scores.GetLength(1) != targets.GetLength(1))
            throw new ArgumentException($"scores ({scores.GetLength(0)} x {scores.GetLength(1)}) and targets ({targets.GetLength(0)} x {targets.GetLength(1)}) differ in shape");
        if (scores.GetLength(0) == 0) throw new ArgumentException("no rows to score");
        return (scores.GetLength(0), scores.GetLength(1));
    }

    static (int N, int C) CheckRows(float[,] scores, int[] labels)
    {
        if (scores.GetLength(0) != labels.Length)
            throw new ArgumentException($"scores have {scores.GetLength(0)} rows but there are {labels.Length} labels");
        if (labels.Length == 0) throw new ArgumentException("no rows to score");
        int c = scores.GetLength(1);
        foreach (var l in labels) if (l < 0 || l >= c) throw new ArgumentException($"label {l} outside 0..{c - 1}");
        return (labels.Length, c);
    }
}
