using Bat.Cli.Commands;
using Bat.Reporting;
using Bat.Tests.Audio;

namespace Bat.Tests.Cli;

/// <summary>`bat margins`: margins of hand-gathered results over a named control, with the noise band computed by hand.</summary>
public class MarginsCommandTests
{
    // A single-label task of 100 test clips; LP scores with probe seeds 0 and 1.
    static IEnumerable<ResultRow> Scores(string model, string metric, params double[] bySeed) => Scores("keys", model, metric, bySeed);

    static IEnumerable<ResultRow> Scores(string dataset, string model, string metric, params double[] bySeed) =>
        bySeed.Select((v, seed) => new ResultRow("probe", dataset, model, "lp", null, null, metric, v, seed, "tiny", "abc"))
            .Concat(bySeed.Select((_, seed) => new ResultRow("probe", dataset, model, "lp", null, null, "support", 100, seed, "tiny", "abc")));

    static string Results(TempDir dir)
    {
        var path = dir.File("probes.csv");
        ResultsTable.Write(path, [
            .. Scores("ctrl-a", "accuracy", 50, 50), .. Scores("run-a", "accuracy", 60, 64),
            .. Scores("ctrl-a", "f1_macro", 10, 12), .. Scores("run-a", "f1_macro", 30, 30),
            // One recipe pre-trained with seeds 0 and 1, each against the control of its own seed.
            .. Scores("ctrl-s0", "accuracy", 50, 52), .. Scores("ctrl-s1", "accuracy", 54, 56),
            .. Scores("run-s0", "accuracy", 70, 72), .. Scores("run-s1", "accuracy", 61, 63),
            // A second task probed on pre-training seed 0 only.
            .. Scores("words", "ctrl-s0", "accuracy", 40, 40), .. Scores("words", "run-s0", "accuracy", 50, 54),
        ]);
        return path;
    }

    static double Band(double control, double seedSpread) => Math.Sqrt(Math.Pow(2 * Math.Sqrt(control * (100 - control) / 100), 2) + seedSpread * seedSpread);

    [Fact]
    public void AModelIsReadAgainstTheNamedControlOnAccuracyAndMacroF1()
    {
        using var dir = new TempDir();
        var csv = dir.File("margins.csv");
        var (code, _, err) = FrontendCommandTests.Bat("margins", Results(dir), "--control", "ctrl-a", "--model", "run-a", "--out", csv);
        Assert.True(code == 0, err);

        var rows = Csv.Read<MarginsCommand.MarginRow>(csv);
        var accuracy = rows.Single(r => r.Metric == "accuracy");
        Assert.Equal(("run-a", "ctrl-a", 62.0, 50.0, 12.0, 2), (accuracy.Model, accuracy.Control, accuracy.Score, accuracy.ControlScore, accuracy.Margin, accuracy.Seeds));
        // Seeds' spread: run-a's variance 8 over 2 seeds, the control's 0: 2 sqrt(8 / 2) = 4; test clips: 2 sqrt(50 * 50 / 100) = 10.
        Assert.Equal(Math.Sqrt(100 + 16), accuracy.Noise, 9);
        Assert.False(accuracy.WithinNoise);
        var f1 = rows.Single(r => r.Metric == "f1_macro");
        Assert.Equal(30 - 11, f1.Margin, 9);
    }

    [Fact]
    public void RunsOfOneRecipeAreReadAsPretrainingSeedsAgainstTheControlsOfTheirOwnSeeds()
    {
        using var dir = new TempDir();
        var csv = dir.File("margins.csv");
        var (code, _, err) = FrontendCommandTests.Bat("margins", Results(dir), "--seeds-of", "recipe=run-s0,run-s1", "--seeds-of", "control=ctrl-s0,ctrl-s1",
            "--pair", "recipe=control", "--model", "recipe", "--out", csv);
        Assert.True(code == 0, err);

        var rows = Csv.Read<MarginsCommand.MarginRow>(csv);
        var margin = rows.Single(r => r.Dataset == "keys");
        // Per pre-training seed, the mean over probe seeds: recipe 71 and 62, control 51 and 55.
        Assert.Equal(("recipe", "control", 66.5, 53.0, 2), (margin.Model, margin.Control, margin.Score, margin.ControlScore, margin.Seeds));
        Assert.Equal(13.5, margin.Margin, 9);
        // Spread over pre-training seeds: variances 40.5 and 8, each over 2 seeds.
        Assert.Equal(Band(53, 2 * Math.Sqrt(40.5 / 2 + 8.0 / 2)), margin.Noise, 9);

        // A task only one pre-training seed was probed on keeps that run's probe seeds: variance 8 over 2 seeds, the control's 0.
        var single = rows.Single(r => r.Dataset == "words");
        Assert.Equal((52.0, 40.0, 2), (single.Score, single.ControlScore, single.Seeds));
        Assert.Equal(Band(40, 2 * Math.Sqrt(8.0 / 2)), single.Noise, 9);
    }

    [Fact]
    public void BadPairingsAreOneErrorNamingWhatIsWrong()
    {
        using var dir = new TempDir();
        var results = Results(dir);

        var (code, _, err) = FrontendCommandTests.Bat("margins", results, "--seeds-of", "recipe=run-s0,run-s9", "--control", "ctrl-a");
        Assert.Equal(1, code);
        Assert.StartsWith($"error: --seeds-of: recipe: no rows of model 'run-s9' in {results}", err);

        (code, _, err) = FrontendCommandTests.Bat("margins", results, "--seeds-of", "recipe=run-s0,run-s1", "--pair", "recipe=ctrl-a");
        Assert.Equal(1, code);
        Assert.StartsWith("error: --seeds-of: recipe and its control ctrl-a: read both as pre-training seeds", err);

        (code, _, err) = FrontendCommandTests.Bat("margins", results, "--pair", "run-a");
        Assert.Equal(1, code);
        Assert.StartsWith("error: --pair: 'run-a' is not MODEL=CONTROL", err);

        (code, _, err) = FrontendCommandTests.Bat("margins", results, "--control", "nobody");
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {results}: no model has a control", err);
    }
}
