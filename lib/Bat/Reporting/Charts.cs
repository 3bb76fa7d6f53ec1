using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.CSharp;
using Plotly.NET.LayoutObjects;
using TorchSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;
using FSharpChart = Plotly.NET.Chart;

namespace Bat.Reporting;

/// <summary>
/// The few chart shapes the notebooks need, titled and labelled, so a notebook cell is one call.
/// Spectrograms are (time, mel) as the frontends produce them: time on x in seconds, mel bin on y.
/// </summary>
public static class Charts
{
    /// <summary>The frontends' hop: 10 ms.</summary>
    public const double DefaultHopSeconds = 0.01;

    /// <summary>Heatmap of a (time, mel) spectrogram; a (1, 1, T, M) or (1, T, M) tensor is squeezed first.</summary>
    public static GenericChart Spectrogram(torch.Tensor spectrogram, string title, double hopSeconds = DefaultHopSeconds,
        string colorTitle = "") => Spectrogram(ToMatrix(spectrogram), title, hopSeconds, colorTitle);

    public static GenericChart Spectrogram(float[,] spectrogram, string title, double hopSeconds = DefaultHopSeconds,
        string colorTitle = "") =>
        Titled(SpectrogramTrace(spectrogram, hopSeconds, colorTitle, colorBarY: null), title, "time (s)", "mel bin")
            .WithSize(900, 380);

    /// <summary>
    /// Two spectrograms stacked, sharing the time axis (zooming one zooms both), each with its own colour bar:
    /// for comparing two frontends on the same clip.
    /// </summary>
    public static GenericChart SpectrogramPair(float[,] top, string topTitle, float[,] bottom, string bottomTitle,
        string title, double hopSeconds = DefaultHopSeconds)
    {
        var grid = CSharpChart.Grid(
            [SpectrogramTrace(top, hopSeconds, "", colorBarY: 0.79), SpectrogramTrace(bottom, hopSeconds, "", colorBarY: 0.21)],
            nRows: 2, nCols: 1,
            SubPlotTitles: new[] { topTitle, bottomTitle },
            Pattern: StyleParam.LayoutGridPattern.Coupled,
            YGap: 0.25);
        return FSharpChart.withTitle(title, null).Invoke(grid)
            .WithXAxisStyle<double, double, string>(TitleText: "time (s)")
            .WithSize(900, 700);
    }

    public static GenericChart SpectrogramPair(torch.Tensor top, string topTitle, torch.Tensor bottom, string bottomTitle,
        string title, double hopSeconds = DefaultHopSeconds) =>
        SpectrogramPair(ToMatrix(top), topTitle, ToMatrix(bottom), bottomTitle, title, hopSeconds);

    /// <summary>
    /// Waveform against time in seconds. Long clips are reduced to at most <paramref name="maxPoints"/> points by
    /// keeping each bucket's minimum and maximum (in time order), so the envelope and every peak stay visible.
    /// </summary>
    public static GenericChart Waveform(float[] samples, int sampleRate, string title, int maxPoints = 4000)
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
    public static GenericChart Lines(string title, string xLabel, string yLabel,
        params (string Name, IEnumerable<double> X, IEnumerable<double> Y)[] series)
    {
        var traces = series.Select(s => CSharpChart.Line<double, double, string>(x: s.X.ToArray(), y: s.Y.ToArray(), Name: s.Name, ShowMarkers: false));
        return Titled(CSharpChart.Combine(traces), title, xLabel, yLabel).WithSize(800, 450);
    }

    /// <summary>Grouped bar chart: one bar group per key, one bar per named series.</summary>
    public static GenericChart Bars(string title, string xLabel, string yLabel, IReadOnlyList<string> keys,
        params (string Name, IEnumerable<double> Values)[] series)
    {
        var traces = series.Select(s =>
        {
            var values = s.Values.ToArray();
            if (values.Length != keys.Count)
                throw new ArgumentException($"bar series '{s.Name}' has {values.Length} values for {keys.Count} keys");
            return CSharpChart.Column<double, string, string>(values: values, Keys: keys.ToArray(), Name: s.Name);
        });
        return Titled(CSharpChart.Combine(traces), title, xLabel, yLabel).WithSize(800, 450);
    }

    /// <summary>Heatmap of any matrix: rows on y (labelled by yLabels), columns on x.</summary>
    public static GenericChart Heatmap(double[,] values, string title, string xLabel, string yLabel,
        IReadOnlyList<string>? xLabels = null, IReadOnlyList<string>? yLabels = null)
    {
        int rows = values.GetLength(0), cols = values.GetLength(1);
        var z = Enumerable.Range(0, rows).Select(r => Enumerable.Range(0, cols).Select(c => values[r, c]).ToArray()).ToArray();
        var x = xLabels?.ToArray() ?? Enumerable.Range(0, cols).Select(c => c.ToString()).ToArray();
        var y = yLabels?.ToArray() ?? Enumerable.Range(0, rows).Select(r => r.ToString()).ToArray();
        if (x.Length != cols || y.Length != rows)
            throw new ArgumentException($"heatmap labels ({x.Length} x, {y.Length} y) do not match the matrix ({rows} x {cols})");
        var chart = CSharpChart.Heatmap<double, string, string, string>(zData: z, X: x, Y: y);
        return Titled(chart, title, xLabel, yLabel).WithSize(800, 500);
    }

    static GenericChart SpectrogramTrace(float[,] spectrogram, double hopSeconds, string colorTitle, double? colorBarY)
    {
        int frames = spectrogram.GetLength(0), bins = spectrogram.GetLength(1);
        // Plotly's z is row-major over y: one row per mel bin, one column per frame. 4 decimals keep the JSON small.
        var z = new double[bins][];
        for (int m = 0; m < bins; m++)
        {
            z[m] = new double[frames];
            for (int t = 0; t < frames; t++) z[m][t] = Math.Round(spectrogram[t, m], 4);
        }
        var seconds = Enumerable.Range(0, frames).Select(t => Math.Round(t * hopSeconds, 4)).ToArray();
        var melBins = Enumerable.Range(0, bins).ToArray();
        var colorBar = ColorBarAt(colorTitle, colorBarY);
        return CSharpChart.Heatmap<double, double, int, string>(zData: z, X: seconds, Y: melBins, ColorBar: colorBar,
            ColorScale: StyleParam.Colorscale.Viridis);
    }

    /// <summary>
    /// A colour bar with a title and, in a grid, a vertical position and length. ColorBar.init is an F# method with
    /// ~45 optional arguments that C# must all pass; this fills the ones needed by name and leaves the rest None.
    /// </summary>
    static ColorBar ColorBarAt(string title, double? y)
    {
        var init = typeof(ColorBar).GetMethod(nameof(ColorBar.init))!.MakeGenericMethod(typeof(double), typeof(double));
        var args = init.GetParameters().Select(p => p.Name switch
        {
            "Title" => (object?)FSharpOption<Title>.Some(Title.init(FSharpOption<string>.Some(title), null, null, null, null, null, null, null, null, null, null, null)),
            "Len" when y is not null => FSharpOption<double>.Some(0.42),
            "Y" when y is not null => FSharpOption<double>.Some(y.Value),
            _ => null,
        }).ToArray();
        return (ColorBar)init.Invoke(null, args)!;
    }

    static GenericChart Titled(GenericChart chart, string title, string xLabel, string yLabel) =>
        FSharpChart.withTitle(title, null).Invoke(chart)
            .WithXAxisStyle<double, double, string>(TitleText: xLabel)
            .WithYAxisStyle<double, double, string>(TitleText: yLabel);

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
