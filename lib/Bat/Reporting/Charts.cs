using System.Text.Json.Nodes;
using TorchSharp;

namespace Bat.Reporting;

/// <summary>
/// The few chart shapes the notebooks need, titled and labelled, so a notebook cell is one call. Each returns a
/// <see cref="PlotlyFigure"/> (plotly.js JSON). Spectrograms are (time, mel) as the frontends produce them: time on
/// x in seconds, mel bin on y.
/// </summary>
public static class Charts
{
    /// <summary>The frontends' hop: 10 ms.</summary>
    public const double DefaultHopSeconds = 0.01;

    /// <summary>Heatmap of a (time, mel) spectrogram; a (1, 1, T, M) or (1, T, M) tensor is squeezed first.</summary>
    public static PlotlyFigure Spectrogram(torch.Tensor spectrogram, string title, double hopSeconds = DefaultHopSeconds,
        string colorTitle = "") => Spectrogram(ToMatrix(spectrogram), title, hopSeconds, colorTitle);

    public static PlotlyFigure Spectrogram(float[,] spectrogram, string title, double hopSeconds = DefaultHopSeconds,
        string colorTitle = "") =>
        new PlotlyFigure([SpectrogramTrace(spectrogram, hopSeconds, colorTitle, colorBarY: null)], Layout(title, "time (s)", "mel bin"))
            .WithSize(900, 380);

    /// <summary>
    /// Two spectrograms stacked, sharing the time axis (zooming one zooms both: plotly's "coupled" grid), each with
    /// its own colour bar and subplot title: for comparing two frontends on the same clip.
    /// </summary>
    public static PlotlyFigure SpectrogramPair(float[,] top, string topTitle, float[,] bottom, string bottomTitle,
        string title, double hopSeconds = DefaultHopSeconds)
    {
        const double yGap = 0.25;                  // between the rows, as a fraction of a row's height
        const double rowHeight = 1 / (2 + yGap);  // in paper coordinates
        var upper = SpectrogramTrace(top, hopSeconds, "", colorBarY: 0.79);
        var lower = SpectrogramTrace(bottom, hopSeconds, "", colorBarY: 0.21);
        (upper["xaxis"], upper["yaxis"], lower["xaxis"], lower["yaxis"]) = ("x", "y", "x", "y2");
        var layout = Layout(title, "time (s)", "mel bin");
        layout["yaxis2"] = Axis("mel bin");
        layout["grid"] = new JsonObject { ["rows"] = 2, ["columns"] = 1, ["pattern"] = "coupled", ["ygap"] = yGap };
        layout["annotations"] = new JsonArray(SubplotTitle(topTitle, 1.0), SubplotTitle(bottomTitle, rowHeight));
        return new PlotlyFigure([upper, lower], layout).WithSize(900, 700);
    }

    public static PlotlyFigure SpectrogramPair(torch.Tensor top, string topTitle, torch.Tensor bottom, string bottomTitle,
        string title, double hopSeconds = DefaultHopSeconds) =>
        SpectrogramPair(ToMatrix(top), topTitle, ToMatrix(bottom), bottomTitle, title, hopSeconds);

    /// <summary>A subplot's title, centred just above the top of its row (y in paper coordinates).</summary>
    static JsonObject SubplotTitle(string text, double y) => new()
    {
        ["text"] = text, ["showarrow"] = false, ["xref"] = "paper", ["yref"] = "paper",
        ["x"] = 0.5, ["y"] = y, ["xanchor"] = "center", ["yanchor"] = "bottom",
    };
    /// <summary>
    /// Waveform against time in seconds. Long clips are reduced to at most <paramref name="maxPoints"/> points by
    /// keeping each bucket's minimum and maximum (in time order), so the envelope and every peak stay visible.
    /// </summary>
    public static PlotlyFigure Waveform(float[] samples, int sampleRate, string title, int maxPoints = 4000)
    {
        var (indices, values) = Envelope(samples, maxPoints);
        var seconds = indices.Select(i => Math.Round((double)i / sampleRate, 5)).ToArray();
        return Lines(title, "time (s)", "amplitude", ("waveform", seconds, values)).WithSize(900, 300);
    }

    /// <summary>Min/max per bucket, in time order: (sample index, value) pairs, at most maxPoints of them.</summary>
    public static (int[] Indices, double[] Values) Envelope(float[] samples, int maxPoints)
    {
        if (maxPoints < 2) throw new ArgumentException("maxPoints must be at least 2");
        if (samples.Length <= maxPoints)
            return (Enumerable.Range(0, samples.Length).ToArray(), samples.Select(v => (double)v).ToArray());
        int bucket = (int)Math.Ceiling(samples.Length / (maxPoints / 2.0));
        var indices = new List<int>();
        for (int start = 0; start < samples.Length; start += bucket)
        {
            int end = Math.Min(start + bucket, samples.Length), lo = start, hi = start;
            for (int i = start; i < end; i++)
            {
                if (samples[i] < samples[lo]) lo = i;
                if (samples[i] > samples[hi]) hi = i;
            }
            indices.Add(Math.Min(lo, hi));
            if (lo != hi) indices.Add(Math.Max(lo, hi));
        }
        return (indices.ToArray(), indices.Select(i => (double)samples[i]).ToArray());
    }

    /// <summary>Line chart of several named series.</summary>
    public static PlotlyFigure Lines(string title, string xLabel, string yLabel,
        params (string Name, IEnumerable<double> X, IEnumerable<double> Y)[] series)
    {
        var traces = series.Select(s => (JsonNode)new JsonObject
        {
            ["type"] = "scatter", ["mode"] = "lines", ["name"] = s.Name, ["x"] = Numbers(s.X), ["y"] = Numbers(s.Y),
        });
        return new PlotlyFigure(new JsonArray(traces.ToArray()), Layout(title, xLabel, yLabel)).WithSize(800, 450);
    }

    /// <summary>Grouped bar chart: one bar group per key, one bar per named series.</summary>
    public static PlotlyFigure Bars(string title, string xLabel, string yLabel, IReadOnlyList<string> keys,
        params (string Name, IEnumerable<double> Values)[] series)
    {
        var traces = series.Select(s =>
        {
            var values = s.Values.ToArray();
            if (values.Length != keys.Count)
                throw new ArgumentException($"bar series '{s.Name}' has {values.Length} values for {keys.Count} keys");
            return (JsonNode)new JsonObject { ["type"] = "bar", ["name"] = s.Name, ["x"] = Strings(keys), ["y"] = Numbers(values) };
        });
        var layout = Layout(title, xLabel, yLabel);
        layout["barmode"] = "group";
        return new PlotlyFigure(new JsonArray(traces.ToArray()), layout).WithSize(800, 450);
    }

    /// <summary>Heatmap of any matrix: rows on y (labelled by yLabels), columns on x.</summary>
    public static PlotlyFigure Heatmap(double[,] values, string title, string xLabel, string yLabel,
        IReadOnlyList<string>? xLabels = null, IReadOnlyList<string>? yLabels = null)
    {
        int rows = values.GetLength(0), cols = values.GetLength(1);
        var x = xLabels?.ToArray() ?? Enumerable.Range(0, cols).Select(c => c.ToString()).ToArray();
        var y = yLabels?.ToArray() ?? Enumerable.Range(0, rows).Select(r => r.ToString()).ToArray();
        if (x.Length != cols || y.Length != rows)
            throw new ArgumentException($"heatmap labels ({x.Length} x, {y.Length} y) do not match the matrix ({rows} x {cols})");
        var z = new JsonArray(Enumerable.Range(0, rows)
            .Select(r => (JsonNode)Numbers(Enumerable.Range(0, cols).Select(c => values[r, c]))).ToArray());
        var trace = new JsonObject { ["type"] = "heatmap", ["z"] = z, ["x"] = Strings(x), ["y"] = Strings(y) };
        return new PlotlyFigure([trace], Layout(title, xLabel, yLabel)).WithSize(800, 500);
    }

    static JsonObject SpectrogramTrace(float[,] spectrogram, double hopSeconds, string colorTitle, double? colorBarY)
    {
        int frames = spectrogram.GetLength(0), bins = spectrogram.GetLength(1);
        // Plotly's z is row-major over y: one row per mel bin, one column per frame. 4 decimals keep the JSON small.
        var z = new JsonArray();
        for (int m = 0; m < bins; m++)
            z.Add(Numbers(Enumerable.Range(0, frames).Select(t => Math.Round(spectrogram[t, m], 4))));
        var colorBar = new JsonObject { ["title"] = new JsonObject { ["text"] = colorTitle } };
        if (colorBarY is { } y)
        {
            colorBar["len"] = 0.42;   // a little under one row of the pair, beside its own heatmap
            colorBar["y"] = y;
        }
        return new JsonObject
        {
            ["type"] = "heatmap",
            ["z"] = z,
            ["x"] = Numbers(Enumerable.Range(0, frames).Select(t => Math.Round(t * hopSeconds, 4))),
            ["y"] = new JsonArray(Enumerable.Range(0, bins).Select(m => (JsonNode)m).ToArray()),
            ["colorscale"] = "Viridis",
            ["colorbar"] = colorBar,
        };
    }

    static JsonObject Layout(string title, string xLabel, string yLabel) => new()
    {
        ["title"] = new JsonObject { ["text"] = title },
        ["xaxis"] = Axis(xLabel),
        ["yaxis"] = Axis(yLabel),
    };

    static JsonObject Axis(string label) => new() { ["title"] = new JsonObject { ["text"] = label } };

    /// <summary>Numbers as JSON; NaN and infinities (not JSON) become null, which plotly.js draws as a gap.</summary>
    static JsonArray Numbers(IEnumerable<double> values) =>
        new(values.Select(v => double.IsFinite(v) ? (JsonNode)JsonValue.Create(v) : null).ToArray());

    static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)v).ToArray());

    /// <summary>A (T, M) float matrix from a spectrogram tensor of shape (T, M), (1, T, M) or (1, 1, T, M).</summary>
    public static float[,] ToMatrix(torch.Tensor spectrogram)
    {
        var x = spectrogram;
        while (x.dim() > 2 && x.shape[0] == 1) x = x.squeeze(0);
        if (x.dim() != 2)
            throw new ArgumentException($"expected a (time, mel) spectrogram, got shape ({string.Join(", ", spectrogram.shape)})");
        using var cpu = x.detach().to(torch.CPU).to_type(torch.ScalarType.Float32).contiguous();
        var flat = cpu.data<float>().ToArray();
        int rows = (int)cpu.shape[0], cols = (int)cpu.shape[1];
        var matrix = new float[rows, cols];
        Buffer.BlockCopy(flat, 0, matrix, 0, flat.Length * sizeof(float));
        return matrix;
    }
}
