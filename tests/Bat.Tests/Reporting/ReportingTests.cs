using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bat.Reporting;
using TorchSharp;

namespace Bat.Tests.Reporting;

public class ReportingTests
{
    static string TempFile(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "bat-reporting-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name);
    }

    static readonly ResultRow[] Rows =
    [
        new("probing", "esc50", "bat", "cgp", 16, null, "accuracy", 0.8125, 1, "tiny", "abc1234"),
        new("probing", "esc50", "eat, \"quoted\"", "lp", null, 11, "accuracy", 1.0 / 3, 2, "tiny", "abc1234"),
    ];

    [Fact]
    public void Results_csv_has_the_shared_header_and_round_trips_including_nulls_and_quotes()
    {
        var path = TempFile("results.csv");
        ResultsTable.Write(path, Rows);
        var lines = File.ReadAllLines(path);
        Assert.Equal("experiment,dataset,model,probe,k,layer,metric,value,seed,preset,commit", lines[0]);
        Assert.Equal("probing,esc50,bat,cgp,16,,accuracy,0.8125,1,tiny,abc1234", lines[1]);
        Assert.Equal(Rows, ResultsTable.Read(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp")); // atomic write left no temp file
    }

    [Fact]
    public void Append_keeps_existing_rows_and_dataframe_has_typed_columns()
    {
        var path = TempFile("results.csv");
        ResultsTable.Append(path, Rows.Take(1));
        ResultsTable.Append(path, Rows.Skip(1));
        Assert.Equal(Rows, ResultsTable.Read(path));

        var frame = ResultsTable.ReadDataFrame(path);
        Assert.Equal(ResultsTable.Columns, frame.Columns.Select(c => c.Name));
        Assert.Equal(2, frame.Rows.Count);
        Assert.Equal(16, frame["k"][0]);
        Assert.Null(frame["k"][1]);
        Assert.Equal(11, frame["layer"][1]);
        Assert.Equal(1.0 / 3, (double)frame["value"][1]!, 15);
        Assert.Equal("eat, \"quoted\"", frame["model"][1]);
    }

    [Theory]
    [InlineData("experiment,dataset\nx,y\n", "header is 'experiment,dataset'")]
    [InlineData("experiment,dataset,model,probe,k,layer,metric,value,seed,preset,commit\na,b,c,d,1,2,m,notanumber,1,tiny,c\n", "line 2: value 'notanumber' is not a number")]
    [InlineData("experiment,dataset,model,probe,k,layer,metric,value,seed,preset,commit\na,b,c,d,x,2,m,1,1,tiny,c\n", "line 2: k 'x' is not an integer")]
    [InlineData("", "empty file")]
    public void Bad_results_files_are_errors_naming_the_file(string content, string message)
    {
        var path = TempFile("bad.csv");
        File.WriteAllText(path, content);
        var e = Assert.Throws<BatException>(() => ResultsTable.Read(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(message, e.Message);
    }

    record Curve(int Step, double Loss, string Phase);

    [Fact]
    public void Free_form_and_matrix_csvs_round_trip()
    {
        var path = TempFile("curve.csv");
        Csv.Write(path, new[] { new Curve(1, 0.5, "train"), new Curve(2, 0.25, "val") });
        Assert.Equal(["Step,Loss,Phase", "1,0.5,train", "2,0.25,val"], File.ReadAllLines(path));
        Assert.Equal([new Curve(1, 0.5, "train"), new Curve(2, 0.25, "val")], Csv.Read<Curve>(path));

        var matrixPath = TempFile("spec.csv");
        var matrix = new float[,] { { 1.5f, -2f, 0.1f }, { 3f, 4f, 1e-7f } };
        Csv.WriteMatrix(matrixPath, matrix);
        Assert.Equal("m0,m1,m2", File.ReadLines(matrixPath).First());
        Assert.Equal(matrix, Csv.ReadMatrix(matrixPath));
    }

    [Fact]
    public void Git_commit_is_a_short_hash_inside_git_and_unknown_outside()
    {
        Assert.Matches(new Regex("^[0-9a-f]{7,}(-dirty)?$"), Provenance.GitCommit(AppContext.BaseDirectory));
        Assert.Equal("unknown", Provenance.GitCommit(Path.GetTempPath()));
    }

    [Fact]
    public void Spectrogram_stats_match_a_hand_computed_case()
    {
        // 3 frames x 2 mel bins: band 0 = 0, 2, 4 (variance 8/3), band 1 constant 10 (variance 0).
        var s = SpectrogramStats.Compute("toy", new float[,] { { 0, 10 }, { 2, 10 }, { 4, 10 } });
        Assert.Equal((3, 2), (s.Frames, s.MelBins));
        Assert.Equal(0, s.Min);
        Assert.Equal(10, s.Max);
        Assert.Equal(10, s.DynamicRange);
        Assert.Equal(1.0 / 6, s.FloorFraction, 12);   // only the 0 is within 5% of the range above the minimum
        Assert.Equal(4.0 / 3, s.MeanBandVariance, 12);
        Assert.Equal(4.0 / 300, s.RelativeBandVariance, 12);
        Assert.Throws<ArgumentException>(() => SpectrogramStats.Compute("nan", new float[,] { { float.NaN } }));
    }

    [Fact]
    public void Waveform_envelope_keeps_peaks_in_time_order_within_the_point_budget()
    {
        var (idx, vals) = Charts.Envelope([0.1f, -0.2f, 0.3f], 10);
        Assert.Equal([0, 1, 2], idx);
        Assert.Equal(-0.2f, (float)vals[1]);

        var samples = Enumerable.Range(0, 10_000).Select(i => MathF.Sin(i * 0.01f) * 0.5f).ToArray();
        samples[1234] = 0.9f;
        samples[8765] = -0.95f;
        (idx, vals) = Charts.Envelope(samples, 100);
        Assert.True(idx.Length <= 100, $"{idx.Length} points");
        Assert.Contains(1234, idx);
        Assert.Contains(8765, idx);
        Assert.Equal(idx.Order(), idx);
        Assert.Equal(idx.Select(i => (double)samples[i]), vals);
        Assert.Equal(0.9, Figure(Charts.Waveform(samples, 16000, "w"))["data"]![0]!["y"]!.AsArray().Max(v => v!.GetValue<double>()), 6);
    }

    [Fact]
    public void Band_variance_is_per_mel_bin_over_time()
    {
        // bins over 4 frames: 0,2,4,2 (mean 2, variance 2); constant 10 (0); 1,0,1,0 (mean 0.5, variance 0.25)
        var variance = SpectrogramStats.BandVariance(new float[,] { { 0, 10, 1 }, { 2, 10, 0 }, { 4, 10, 1 }, { 2, 10, 0 } });
        Assert.Equal([2.0, 0.0, 0.25], variance);
    }

    static JsonObject Figure(PlotlyFigure chart) => (JsonObject)JsonNode.Parse(chart.ToJson())!;

    [Fact]
    public void Spectrogram_heatmap_has_time_in_seconds_on_x_and_mel_bins_on_y()
    {
        using var spec = torch.arange(0, 12, dtype: torch.float32).reshape(1, 1, 4, 3); // (B, 1, T=4, M=3)
        var fig = Figure(Charts.Spectrogram(spec, "BAT frontend"));
        var trace = fig["data"]![0]!;
        Assert.Equal("heatmap", trace["type"]!.GetValue<string>());
        Assert.Equal([0.0, 0.01, 0.02, 0.03], trace["x"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal([0, 1, 2], trace["y"]!.AsArray().Select(v => v!.GetValue<int>()));
        var z = trace["z"]!.AsArray();
        Assert.Equal(3, z.Count);                                                                     // one row per mel bin
        Assert.Equal([1.0, 4, 7, 10], z[1]!.AsArray().Select(v => v!.GetValue<double>()));          // bin 1 over time
        var json = fig.ToJsonString();
        Assert.Contains("BAT frontend", json);
        Assert.Contains("time (s)", json);
        Assert.Contains("mel bin", json);
    }

    [Fact]
    public void Spectrogram_pair_stacks_two_heatmaps_on_a_shared_time_axis()
    {
        var a = new float[5, 3];
        var b = new float[5, 3];
        var fig = Figure(Charts.SpectrogramPair(a, "kaldi", b, "bat", "Frontends"));
        var traces = fig["data"]!.AsArray();
        Assert.Equal(2, traces.Count);
        Assert.All(traces, t => Assert.Equal("heatmap", t!["type"]!.GetValue<string>()));
        Assert.Equal("coupled", fig["layout"]!["grid"]!["pattern"]!.GetValue<string>());
        Assert.Equal(2, fig["layout"]!["grid"]!["rows"]!.GetValue<int>());
        var colorBarYs = traces.Select(t => t!["colorbar"]!["y"]!.GetValue<double>()).ToList();
        Assert.NotEqual(colorBarYs[0], colorBarYs[1]);
        Assert.Contains("kaldi", fig.ToJsonString());
    }

    [Fact]
    public void Line_and_bar_charts_carry_series_names_titles_and_labels()
    {
        var lines = Figure(Charts.Lines("Loss", "step", "loss", ("train", [1.0, 2], [0.5, 0.25]), ("val", [1.0, 2], [0.6, 0.4])));
        Assert.Equal(["train", "val"], lines["data"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
        Assert.Contains("\"step\"", lines.ToJsonString());

        var bars = Figure(Charts.Bars("Accuracy", "probe", "accuracy", ["lp", "cgp"], ("bat", [0.5, 0.7]), ("eat", [0.4, 0.6])));
        Assert.Equal(2, bars["data"]!.AsArray().Count);
        Assert.Equal("bar", bars["data"]![0]!["type"]!.GetValue<string>());
        Assert.Throws<ArgumentException>(() => Charts.Bars("x", "x", "y", ["a"], ("s", [1.0, 2])));
    }
}
