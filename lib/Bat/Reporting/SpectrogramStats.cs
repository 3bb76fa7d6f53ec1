namespace Bat.Reporting;

/// <summary>
/// Contrast statistics of a (time, mel) spectrogram, for comparing frontends on the same clip (paper Figure 3):
/// how much of the value range is used, how much of the picture sits on the floor, and how much each band
/// moves over time. Range and variance are in the frontend's own units; the Relative/Fraction ones are
/// scale-free, so frontends with different output scales can be compared.
/// </summary>
public sealed record SpectrogramStats(
    string Name,
    int Frames,
    int MelBins,
    double Min,
    double Max,
    /// <summary>Max - Min.</summary>
    double DynamicRange,
    /// <summary>Fraction of bins with value - Min &lt;= FloorMargin * DynamicRange.</summary>
    double FloorFraction,
    /// <summary>Mean over mel bins of the variance over time of that bin (population variance).</summary>
    double MeanBandVariance,
    /// <summary>MeanBandVariance / DynamicRange^2: band variance as if the spectrogram were scaled to [0, 1].</summary>
    double RelativeBandVariance)
{
    public const double DefaultFloorMargin = 0.05;

    /// <summary>Per mel bin: the population variance over time of that bin.</summary>
    public static double[] BandVariance(float[,] spectrogram)
    {
        int frames = spectrogram.GetLength(0), bins = spectrogram.GetLength(1);
        var result = new double[bins];
        for (int m = 0; m < bins; m++)
        {
            double mean = 0;
            for (int t = 0; t < frames; t++) mean += spectrogram[t, m];
            mean /= frames;
            double variance = 0;
            for (int t = 0; t < frames; t++) variance += (spectrogram[t, m] - mean) * (spectrogram[t, m] - mean);
            result[m] = variance / frames;
        }
        return result;
    }

    public static SpectrogramStats Compute(string name, float[,] spectrogram, double floorMargin = DefaultFloorMargin)
    {
        int frames = spectrogram.GetLength(0), bins = spectrogram.GetLength(1);
        if (frames == 0 || bins == 0) throw new ArgumentException($"spectrogram '{name}' is empty ({frames} x {bins})");
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var v in spectrogram)
        {
            if (!float.IsFinite(v)) throw new ArgumentException($"spectrogram '{name}' has a non-finite value");
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        double range = max - min;
        double floor = min + floorMargin * range;
        long nearFloor = 0;
        foreach (var v in spectrogram) if (v <= floor) nearFloor++;

        double meanBandVariance = BandVariance(spectrogram).Average();
        return new SpectrogramStats(name, frames, bins, min, max, range, (double)nearFloor / (frames * (long)bins),
            meanBandVariance, range > 0 ? meanBandVariance / (range * range) : 0);
    }
}
