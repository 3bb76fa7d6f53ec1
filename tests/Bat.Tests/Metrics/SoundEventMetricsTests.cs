using System.Text.Json;
using Bat.Data;
using Bat.Metrics;
using Bat.Probing;
using static TorchSharp.torch;

namespace Bat.Tests.Metrics;

/// <summary>
/// The DCASE 2016 task 2 scoring (<see cref="SoundEventMetrics"/>, <see cref="SoundEventScores"/>): hand-computed
/// cases, and tests/fixtures/official/heads/sed.json, made by tests/fixtures/make_official_heads.py with the official
/// tokens_to_events (engine/evaluator.py), sed_eval's onset-only event-based counts (restated there as a scipy maximum
/// bipartite matching) and sklearn's frame metrics.
/// </summary>
public class SoundEventMetricsTests
{
    [Fact]
    public void MedianFilterIsScipysWithZeroPaddedEnds()
    {
        // medfilt([0.9, 0.1, 0.8, 0.7, 0.2], 3): windows [0, .9, .1] [.9, .1, .8] [.1, .8, .7] [.8, .7, .2] [.7, .2, 0].
        Assert.Equal([0.1, 0.8, 0.7, 0.7, 0.2], SoundEventMetrics.MedianFilter([0.9, 0.1, 0.8, 0.7, 0.2], 3));
    }

    [Fact]
    public void TokensToEventsFiltersThresholdsAndTimesRunsByTheirFirstAndLastPatch()
    {
        // After the filter: [0.1, 0.5, 0.5, 0.5, 0.1, 0, 0.35, 0.35, 0.35]; runs >= 0.3 at patches 1-3 and 6-8.
        double[] p = [0.1, 0.9, 0.5, 0.5, 0.1, 0, 0.35, 0.4, 0.35];
        Assert.Equal([(0.16, 0.48), (0.96, 1.28)], SoundEventMetrics.TokensToEvents(p, patchMs: 160));
        // The isolated spike is removed by the filter; without it, it is an event of length 0 (onset = offset).
        double[] spike = [0, 0, 0.9, 0, 0];
        Assert.Empty(SoundEventMetrics.TokensToEvents(spike, 160));
        Assert.Equal([(0.32, 0.32)], SoundEventMetrics.TokensToEvents(spike, 160, filterSize: 1));
    }

    [Fact]
    public void OnsetMatchingIsOptimalPerClassWithinTheCollar()
    {
        // Reference dog at 1.00 and 1.25 s. Detected dog at 1.12 s (within 200 ms of both) and 0.90 s (of 1.00 only):
        // matching 1.12 to 1.00 first (greedy) would leave one; the optimal matching pairs 0.90-1.00 and 1.12-1.25.
        // A cat at 1.0 s does not match a dog; a dog at 3.0 s is 0.21 s from the reference at 3.21 s: outside.
        IReadOnlyList<SoundEvent> reference = [new("dog", 1.00, 2), new("dog", 1.25, 2), new("dog", 3.21, 4)];
        IReadOnlyList<SoundEvent> detected = [new("dog", 1.12, 1.5), new("dog", 0.90, 1), new("cat", 1.0, 2), new("dog", 3.0, 3.2)];
        var one = SoundEventMetrics.OnsetBased([reference], [detected]);
        Assert.Equal(new EventBasedScores(3, 4, 2), one);
        Assert.Equal(0.5, one.Precision);
        Assert.Equal(2.0 / 3, one.Recall, 12);
        Assert.Equal(2 * 0.5 * (2.0 / 3) / (0.5 + 2.0 / 3), one.F1, 12);
        // Counts add over clips; a clip's events never match another clip's.
        var two = SoundEventMetrics.OnsetBased([reference, [new("cat", 0, 1)]], [detected, []]);
        Assert.Equal(new EventBasedScores(4, 4, 2), two);
        // sed_eval: nothing detected -> precision NaN -> F NaN; nothing right -> F 0.
        Assert.True(double.IsNaN(SoundEventMetrics.OnsetBased([reference], [[]]).F1));
        Assert.Equal(0, SoundEventMetrics.OnsetBased([reference], [[new SoundEvent("cat", 9, 10)]]).F1);
    }

    sealed record FixtureEvent(string Label, double Onset, double Offset);
    sealed record FixtureClip(float[][] Probabilities, float[][] Targets, FixtureEvent[] Reference, FixtureEvent[] Detected);
    sealed record Fixture(int PatchMs, double Collar, string[] Classes, FixtureClip[] Clips, Dictionary<string, double> Expected);

    static Fixture Load() => JsonSerializer.Deserialize<Fixture>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "official", "heads", "sed.json")),
        new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;

    static float[,] Matrix(float[][] rows)
    {
        var m = new float[rows.Length, rows[0].Length];
        for (int i = 0; i < rows.Length; i++) for (int j = 0; j < rows[0].Length; j++) m[i, j] = rows[i][j];
        return m;
    }

    static List<SoundEvent> Events(FixtureEvent[] events) => events.Select(e => new SoundEvent(e.Label, e.Onset, e.Offset)).ToList();

    [Fact]
    public void DetectionAndEventCountsMatchTheOfficialPostProcessingAndSedEval()
    {
        var f = Load();
        Assert.Equal(SoundEventMetrics.CollarSeconds, f.Collar);
        var detected = f.Clips.Select(c => SoundEventMetrics.Detect(Matrix(c.Probabilities), f.Classes, f.PatchMs)).ToList();
        for (int i = 0; i < f.Clips.Length; i++)
            Assert.Equal(Events(f.Clips[i].Detected), detected[i]);   // same events, same (class-major) order, exact times
        var scores = SoundEventMetrics.OnsetBased(f.Clips.Select(c => (IReadOnlyList<SoundEvent>)Events(c.Reference)).ToList(), detected);
        Assert.Equal(((int)f.Expected["Nref"], (int)f.Expected["Nsys"], (int)f.Expected["Ntp"]), (scores.Reference, scores.Detected, scores.Matched));
        Assert.Equal(f.Expected["f_measure"], scores.F1, 12);
        Assert.InRange(scores.Matched, 1, scores.Reference - 1);   // the fixture has hits and misses
    }

    [Fact]
    public void FrameAndEventScoresOfLogitsMatchTheOfficialEvaluator()
    {
        var f = Load();
        int n = f.Clips.Length, t = f.Clips[0].Probabilities.Length, c = f.Classes.Length;
        var p = f.Clips.SelectMany(x => x.Probabilities.SelectMany(r => r)).Select(v => (double)v).ToArray();
        using var logits = tensor(p.Select(v => Math.Log(v / (1 - v))).ToArray(), n, t, c);   // float64: sigmoid gives p back
        using var targets = tensor(f.Clips.SelectMany(x => x.Targets.SelectMany(r => r)).ToArray(), n, t, c);
        var scores = SoundEventScores.Compute(logits, targets, f.Clips.Select(x => (IReadOnlyList<SoundEvent>)Events(x.Reference)).ToList(), f.Classes, f.PatchMs);
        Assert.Equal(n, scores["support"]);
        Assert.Equal(100 * f.Expected["f_measure"], scores[SoundEventScores.OnsetF1], 9);
        Assert.Equal(100 * f.Expected["precision"], scores["onset_precision_micro"], 9);
        Assert.Equal(100 * f.Expected["recall"], scores["onset_recall_micro"], 9);
        foreach (var key in new[] { "f1_micro", "f1_macro", "map_micro", "map_macro" })
            Assert.Equal(100 * f.Expected[key], scores[key], 9);
    }

    [Fact]
    public void FrameF1RoundsAHalfDownAsTorchRoundDoes()
    {
        // torch.round(0.5) = 0 (half to even): a probability of exactly 0.5 is not a detection.
        using var logits = zeros(1, 2, 1);
        using var targets = tensor(new float[] { 1, 1 }, 1, 2, 1);
        Assert.Equal(0, SoundEventScores.Compute(logits, targets, null, ["a"], 160)["f1_micro"]);
    }
}
