using Bat.Experiments;
using Bat.Probing;

namespace Bat.Tests.Experiments;

public class ProbeResultsTests
{
    static ProbeRunResult Run(string probe, int heads, float[]? gate) => new(probe, 1234, 1.5, 100, "map",
        Enumerable.Range(0, heads).Select(h => new ProbeHeadResult(h, 50, 40 + h, new Dictionary<string, double> { ["map"] = 30 + h, ["f1_macro"] = 20 })).ToList(),
        gate, [1.0, 0.5]);

    [Fact]
    public void RowsCarryMetricsCostGateAndLayerIndices()
    {
        var rows = ProbeResults.Rows(Run("cgp", 1, [0.25f, 0.75f]), "03", "synth", "bat", 64, 3, "smoke", "abc");
        Assert.Contains(rows, r => r is { Metric: "map", Value: 30, K: 64, Layer: null });
        Assert.Contains(rows, r => r is { Metric: "params", Value: 1234 });
        Assert.Contains(rows, r => r is { Metric: "train_seconds", Value: 1.5 });
        Assert.Contains(rows, r => r is { Metric: "gate", Layer: 1, Value: 0.75 });

        var perLayer = ProbeResults.Rows(Run("layer-lp", 3, null), "04", "synth", "eat", 64, 3, "smoke", "abc");
        Assert.Contains(perLayer, r => r is { Metric: "map", Layer: 2, Value: 32, K: null });
        Assert.DoesNotContain(perLayer, r => r.Metric == "gate");
    }
}
