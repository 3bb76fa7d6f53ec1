using Bat.Audio;
using Bat.Frontends;
using Bat.Reporting;
using TorchSharp;

namespace Bat.Experiments;

/// <summary>
/// Notebook 01's work (paper Figure 3 / Table 2, docs/method.md section 1): one clip through the legacy Kaldi fbank
/// (AudioSet constants) and the BAT frontend, as (time, mel) matrices, with the contrast statistics of each.
/// <see cref="WriteResults"/> puts the spectrograms, the statistics and the shared-schema rows under {OutDir}/01-frontend/.
/// </summary>
public sealed record FrontendComparison(string ClipPath, AudioClip Clip, float[,] KaldiFbank, float[,] BatSpectrogram, IReadOnlyList<SpectrogramStats> Stats)
{
    public const string Experiment = OutputLayout.FrontendExperiment;

    /// <summary>Loads the clip (16 kHz mono) and computes both spectrograms and their statistics.</summary>
    public static FrontendComparison Run(string clipPath)
    {
        var clip = AudioReader.Load(clipPath);
        using var wave = torch.tensor(clip.Samples, new long[] { 1, clip.Samples.Length });   // (B=1, samples)
        using var kaldiFeatures = Frontend.Create(FrontendConfig.For(FrontendConfig.Kaldi)).Compute(wave);   // (1, 1, T, 128)
        using var batFeatures = Frontend.Create(FrontendConfig.For(FrontendConfig.Bat)).Compute(wave);       // (1, 1, T', 128)
        var kaldi = Charts.ToMatrix(kaldiFeatures);                                                            // (T, 128)
        var bat = Charts.ToMatrix(batFeatures);
        return new FrontendComparison(clipPath, clip, kaldi, bat,
            [SpectrogramStats.Compute(FrontendConfig.Kaldi, kaldi), SpectrogramStats.Compute(FrontendConfig.Bat, bat)]);
    }

    /// <summary>Per frontend, the temporal variance of each mel bin divided by the squared range of its spectrogram:
    /// the per-bin version of RelativeBandVariance, comparable across frontends.</summary>
    public IReadOnlyList<(string Frontend, double[] Variance)> RelativeBandVariance() =>
        [.. new[] { KaldiFbank, BatSpectrogram }.Zip(Stats, (m, s) => (s.Name, SpectrogramStats.BandVariance(m).Select(v => v / (s.DynamicRange * s.DynamicRange)).ToArray()))];

    /// <summary>The statistics as rows of the shared results schema (dataset = the clip's file name).</summary>
    public IReadOnlyList<ResultRow> Rows(Preset preset, string commit) =>
        Stats.SelectMany(s => new[]
        {
            ("dynamic_range", s.DynamicRange), ("floor_fraction", s.FloorFraction),
            ("mean_band_variance", s.MeanBandVariance), ("relative_band_variance", s.RelativeBandVariance),
        }.Select(m => new ResultRow(Experiment, Path.GetFileName(ClipPath), s.Name, "none", null, null, m.Item1, m.Item2, 0, preset.Name, commit)))
        .ToList();

    /// <summary>kaldi-fbank.csv and bat-frontend.csv (one row per frame, columns m0..), contrast-stats.csv and
    /// results.csv (shared schema) under {outDir}/01-frontend/; returns the folder's files.</summary>
    public IReadOnlyList<string> WriteResults(string outDir, Preset preset)
    {
        var dir = new OutputLayout(outDir).Results(Experiment);
        Csv.WriteMatrix(Path.Combine(dir, "kaldi-fbank.csv"), KaldiFbank);
        Csv.WriteMatrix(Path.Combine(dir, "bat-frontend.csv"), BatSpectrogram);
        Csv.Write(Path.Combine(dir, "contrast-stats.csv"), Stats);
        ResultsTable.Write(Path.Combine(dir, "results.csv"), Rows(preset, Provenance.GitCommit()));
        return Directory.GetFiles(dir).Order().ToList();
    }
}
