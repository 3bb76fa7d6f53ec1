using Bat.Probing;

namespace Bat.Tests.Probing;

public class ProbeResultsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("batres-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    static ProbeRunResult Run(string probe, int heads, float[]? gate) => new(probe, 1234, 1.5, 100, "map",
        Enumerable.Range(0, heads).Select(h => new ProbeHeadResult(h, 50, 40 + h, new Dictionary<string, double> { ["map"] = 30 + h, ["f1_macro"] = 20 })).ToList(),
        gate, [1.0, 0.5]);

    [Fact]
    public void RowsCarryMetricsCostGateAndLayerIndices()
    {
        var rows = ProbeResults.Rows(Run("cgp", 1, [0.25f, 0.75f]), "03", "synth", "bat", 64, 3, "smoke", "abc");
        Assert.Contains(rows, r => r is { Metric: "map", Value: 30, K: "64", Layer: "" });
        Assert.Contains(rows, r => r is { Metric: "params", Value: 1234 });
        Assert.Contains(rows, r => r is { Metric: "train_seconds", Value: 1.5 });
        Assert.Contains(rows, r => r is { Metric: "gate", Layer: "1", Value: 0.75 });

        var perLayer = ProbeResults.Rows(Run("layer-lp", 3, null), "04", "synth", "eat", 64, 3, "smoke", "abc");
        Assert.Contains(perLayer, r => r is { Metric: "map", Layer: "2", Value: 32, K: "" });
        Assert.DoesNotContain(perLayer, r => r.Metric == "gate");
    }

    [Fact]
    public void AppendKeepsEarlierRowsAndRefusesAForeignCsv()
    {
        var path = Path.Combine(dir, "results.csv");
        ProbeResults.Append(path, ProbeResults.Rows(Run("lp", 1, null), "03", "synth", "bat", null, 0, "smoke", "abc"));
        ProbeResults.Append(path, ProbeResults.Rows(Run("h2t", 1, null), "03", "synth", "bat", null, 0, "smoke", "abc"));
        var lines = File.ReadAllLines(path);
        Assert.Equal(ProbeResults.Header, lines[0]);
        Assert.Contains("03,synth,bat,lp,,,map,30,0,smoke,abc", lines);
        Assert.Contains("03,synth,bat,h2t,,,map,30,0,smoke,abc", lines);

        var foreign = Path.Combine(dir, "other.csv");
        File.WriteAllText(foreign, "a,b\n1,2\n");
        var error = Assert.Throws<BatException>(() => ProbeResults.Append(foreign, []));
        Assert.StartsWith(foreign, error.Message);
        Assert.Equal("a,b\n1,2\n", File.ReadAllText(foreign));
    }
}
