namespace Bat.Metrics;

/// <summary>One annotated (or detected) sound event of a clip: its class and its onset and offset in seconds.</summary>
public sealed record SoundEvent(string Class, double Onset, double Offset);

/// <summary>Event-based counts and scores over a set of clips (sed_eval's "overall", micro over classes).</summary>
public sealed record EventBasedScores(int Reference, int Detected, int Matched)
{
    /// <summary>Matched / detected; NaN when nothing was detected (sed_eval's metric.precision).</summary>
    public double Precision => Detected == 0 ? double.NaN : (double)Matched / Detected;

    /// <summary>Matched / reference; NaN without reference events (sed_eval's metric.recall).</summary>
    public double Recall => Reference == 0 ? double.NaN : (double)Matched / Reference;

    /// <summary>2PR / (P + R); 0 when both are 0 and NaN when either is NaN (sed_eval's metric.f_measure).</summary>
    public double F1 => Precision == 0 && Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>
/// The official DCASE 2016 task 2 scoring (houtan-ghaffari/BAT_ICML2026 engine/evaluator.py eval_test_set_dcase):
/// frame probabilities -> events per class (<see cref="TokensToEvents"/>: median filter 3, threshold 0.3, onset at
/// the first active patch's time, offset at the last active patch's time), then sed_eval 0.2.1's
/// EventBasedMetrics(t_collar=0.2, evaluate_onset=True, evaluate_offset=False) with its default optimal matching:
/// per clip, a detected event hits a reference event of the same class whose onset is within the collar, and the
/// true positives are a maximum matching of those hits (each event counted once).
/// </summary>
public static class SoundEventMetrics
{
    /// <summary>The official post-processing: threshold 0.3 on the sigmoid, median filter of 3 patches, 200 ms onset collar.</summary>
    public const double Threshold = 0.3, CollarSeconds = 0.2;
    public const int FilterSize = 3;

    /// <summary>
    /// scipy.signal.medfilt(x, k) for odd k: the median of each window of k values, the signal zero-padded at both ends.
    /// </summary>
    public static double[] MedianFilter(ReadOnlySpan<double> x, int size)
    {
        if (size < 1 || size % 2 == 0) throw new ArgumentException($"median filter size {size} must be odd and positive");
        int half = size / 2;
        var output = new double[x.Length];
        var window = new double[size];
        for (int i = 0; i < x.Length; i++)
        {
            for (int j = -half; j <= half; j++) window[j + half] = i + j >= 0 && i + j < x.Length ? x[i + j] : 0;
            Array.Sort(window);
            output[i] = window[half];
        }
        return output;
    }

    /// <summary>
    /// The official tokens_to_events: one class's per-patch probabilities -> (onset, offset) in seconds. The
    /// probabilities are median-filtered (when <paramref name="filterSize"/> > 1) and thresholded (>=); each run of
    /// active patches [on, off) becomes an event from on * patchMs to (off - 1) * patchMs (so a single active patch
    /// is an event of length 0, as in the official code).
    /// </summary>
    public static List<(double Onset, double Offset)> TokensToEvents(ReadOnlySpan<double> probabilities, int patchMs,
        double threshold = Threshold, int filterSize = FilterSize)
    {
        var p = filterSize > 1 ? MedianFilter(probabilities, filterSize) : probabilities.ToArray();
        var events = new List<(double, double)>();
        int t = 0;
        while (t < p.Length)
        {
            if (p[t] < threshold) { t++; continue; }
            int on = t;
            while (t < p.Length && p[t] >= threshold) t++;
            events.Add(((double)on * patchMs / 1000.0, (double)(t - 1) * patchMs / 1000.0));
        }
        return events;
    }

    /// <summary>The detected events of one clip from its (T, C) probabilities, class by class (in class order).</summary>
    public static List<SoundEvent> Detect(float[,] probabilities, IReadOnlyList<string> classes, int patchMs,
        double threshold = Threshold, int filterSize = FilterSize)
    {
        int timePatches = probabilities.GetLength(0);
        var detected = new List<SoundEvent>();
        var column = new double[timePatches];
        for (int c = 0; c < classes.Count; c++)
        {
            for (int t = 0; t < timePatches; t++) column[t] = probabilities[t, c];
            detected.AddRange(TokensToEvents(column, patchMs, threshold, filterSize).Select(e => new SoundEvent(classes[c], e.Onset, e.Offset)));
        }
        return detected;
    }

    /// <summary>
    /// sed_eval EventBasedMetrics (onset only, optimal matching), accumulated over clips: per clip, the size of a
    /// maximum matching between reference and detected events where a pair may match when the classes are equal
    /// and |onset_ref - onset_detected| &lt;= <paramref name="collar"/>.
    /// </summary>
    public static EventBasedScores OnsetBased(IReadOnlyList<IReadOnlyList<SoundEvent>> reference, IReadOnlyList<IReadOnlyList<SoundEvent>> detected,
        double collar = CollarSeconds)
    {
        if (reference.Count != detected.Count) throw new ArgumentException($"{reference.Count} reference clips but {detected.Count} detected");
        int refs = 0, dets = 0, matched = 0;
        for (int i = 0; i < reference.Count; i++)
        {
            var r = reference[i];
            var d = detected[i];
            refs += r.Count;
            dets += d.Count;
            matched += MaximumMatching(r.Count, d.Count, (j, k) => r[j].Class == d[k].Class && Math.Abs(r[j].Onset - d[k].Onset) <= collar);
        }
        return new EventBasedScores(refs, dets, matched);
    }

    /// <summary>
    /// The size of a maximum bipartite matching (Kuhn's augmenting paths): left vertices 0..left-1, right 0..right-1,
    /// an edge where <paramref name="edge"/> holds. The size is that of any maximum matching, so it equals sed_eval's
    /// Hopcroft-Karp result.
    /// </summary>
    public static int MaximumMatching(int left, int right, Func<int, int, bool> edge)
    {
        var matchOfRight = Enumerable.Repeat(-1, right).ToArray();
        int size = 0;
        for (int u = 0; u < left; u++)
            if (Augment(u, new bool[right])) size++;
        return size;

        bool Augment(int u, bool[] seen)
        {
            for (int v = 0; v < right; v++)
            {
                if (seen[v] || !edge(u, v)) continue;
                seen[v] = true;
                if (matchOfRight[v] < 0 || Augment(matchOfRight[v], seen))
                {
                    matchOfRight[v] = u;
                    return true;
                }
            }
            return false;
        }
    }
}
