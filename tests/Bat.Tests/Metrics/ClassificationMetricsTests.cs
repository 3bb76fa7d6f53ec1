using System.Text.Json;
using Bat.Metrics;

namespace Bat.Tests.Metrics;

/// <summary>Our metrics against scikit-learn 1.2 on fixtures/metrics/metrics.json (made by make_fixtures.py).</summary>
public class ClassificationMetricsTests
{
    const double Tolerance = 1e-12;
    static readonly JsonElement Fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "metrics", "metrics.json"))).RootElement;

    static float[,] Matrix(JsonElement rows)
    {
        int n = rows.GetArrayLength(), c = rows[0].GetArrayLength();
        var m = new float[n, c];
        for (int i = 0; i < n; i++) for (int k = 0; k < c; k++) m[i, k] = rows[i][k].GetSingle();
        return m;
    }

    static IEnumerable<JsonElement> Cases(string kind) => Fixture.GetProperty(kind).EnumerateArray();

    [Fact]
    public void MeanAveragePrecisionMatchesSklearnIncludingTiesAndClassesWithoutPositives()
    {
        foreach (var c in Cases("multilabel"))
        {
            var map = ClassificationMetrics.MacroMeanAveragePrecision(Matrix(c.GetProperty("scores")), Matrix(c.GetProperty("targets")));
            Assert.Equal(c.GetProperty("macroMap").GetDouble(), map.Value, Tolerance);
            Assert.Equal(c.GetProperty("excludedClasses").GetInt32(), map.ExcludedClasses);
            var expected = c.GetProperty("apPerClass").EnumerateArray().ToArray();
            for (int k = 0; k < expected.Length; k++)
            {
                if (expected[k].ValueKind == JsonValueKind.Null) Assert.True(double.IsNaN(map.PerClass[k]));
                else Assert.Equal(expected[k].GetDouble(), map.PerClass[k], Tolerance);
            }
        }
    }

    [Fact]
    public void MultiLabelMacroF1MatchesSklearnForBothZeroDivisionSettings()
    {
        foreach (var c in Cases("multilabel"))
        {
            var scores = Matrix(c.GetProperty("scores"));
            var targets = Matrix(c.GetProperty("targets"));
            Assert.Equal(c.GetProperty("macroF1ZeroDivision0").GetDouble(), ClassificationMetrics.MacroF1(scores, targets, 0.5, zeroDivision: 0), Tolerance);
            Assert.Equal(c.GetProperty("macroF1ZeroDivision1").GetDouble(), ClassificationMetrics.MacroF1(scores, targets, 0.5, zeroDivision: 1), Tolerance);
        }
    }

    [Fact]
    public void SingleLabelMetricsMatchSklearnIncludingTiedRows()
    {
        foreach (var c in Cases("multiclass"))
        {
            var scores = Matrix(c.GetProperty("scores"));
            var labels = c.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(c.GetProperty("accuracy").GetDouble(), ClassificationMetrics.Accuracy(scores, labels), Tolerance);
            for (int k = 1; k <= 3; k++)
                Assert.Equal(c.GetProperty($"top{k}").GetDouble(), ClassificationMetrics.TopKAccuracy(scores, labels, k), Tolerance);
            Assert.Equal(c.GetProperty("macroF1ZeroDivision0").GetDouble(), ClassificationMetrics.MacroF1(scores, labels, zeroDivision: 0), Tolerance);
            Assert.Equal(c.GetProperty("macroF1ZeroDivision1").GetDouble(), ClassificationMetrics.MacroF1(scores, labels, zeroDivision: 1), Tolerance);
        }
    }

    [Fact]
    public void AveragePrecisionOfAHandComputedRanking()
    {
        // Ranking + - + - (distinct scores): P@1 = 1, P@3 = 2/3, recall steps 1/2 each -> AP = (1 + 2/3) / 2.
        double ap = ClassificationMetrics.AveragePrecision(new double[] { 0.9, 0.8, 0.7, 0.6 }, new[] { true, false, true, false });
        Assert.Equal(5.0 / 6.0, ap, Tolerance);
        // A positive tied with a negative at the top is one step of precision 1/2, not 1.
        Assert.Equal(0.5, ClassificationMetrics.AveragePrecision(new double[] { 0.9, 0.9 }, new[] { true, false }), Tolerance);
    }
}
