using Bat.Audio;
using Microsoft.VisualBasic.FileIO;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Frontends;

/// <summary>Dataset statistics of the kaldi fbank: the normalisation constants of a new dataset (`bat stats`).</summary>
public static class FrontendStats
{
    public sealed record Result(double Mean, double Std, long Frames);

    /// <summary>Mean and (population) std of every log-mel value of every frame of every file, no padding.</summary>
    public static Result Measure(KaldiFrontend frontend, IReadOnlyList<string> files)
    {
        // Per-file count, mean and sum of squared deviations, merged with Chan et al.'s pairwise update (stable
        // for millions of values, unlike sum / sum of squares).
        long n = 0, frames = 0;
        double mean = 0, m2 = 0;
        using var progress = new ConsoleProgress("stats", files.Count);
        for (int i = 0; i < files.Count; i++)
        {
            using var scope = NewDisposeScope();
            var clip = AudioReader.Load(files[i]);
            var fbank = frontend.LogFbank(tensor(clip.Samples).unsqueeze(0)).to_type(ScalarType.Float64);   // (1, T, M)
            long count = fbank.numel();
            if (count == 0) throw new BatException(files[i], $"shorter than one {KaldiFrontend.FrameLength}-sample frame at 16 kHz");
            double fileMean = fbank.mean().item<double>();
            using Scalar fileMeanScalar = fileMean;
            var deviation = fbank.sub(fileMeanScalar);
            double fileM2 = (deviation * deviation).sum().item<double>();
            double delta = fileMean - mean;
            long total = n + count;
            mean += delta * count / total;
            m2 += fileM2 + delta * delta * n * count / total;
            n = total;
            frames += fbank.shape[1];
            progress.Report(i + 1);
        }
        return new Result(mean, Math.Sqrt(m2 / n), frames);
    }

    static readonly string[] AudioExtensions = [".wav", ".wave", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".aif", ".aiff", ".webm"];

    /// <summary>
    /// The audio files of a dataset: a folder (searched recursively for audio extensions) or a CSV whose first
    /// column is `path` (relative to the CSV's folder, or absolute). The one place that reads a file list, so it
    /// can switch to Bat.Data.Manifest when that lands.
    /// </summary>
    public static IReadOnlyList<string> AudioFiles(string manifest)
    {
        if (Directory.Exists(manifest))
        {
            var found = Directory.EnumerateFiles(manifest, "*", System.IO.SearchOption.AllDirectories)
                .Where(f => AudioExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal).ToList();
            return found.Count > 0 ? found : throw new BatException(manifest, $"no audio files ({string.Join(" ", AudioExtensions)}) in this folder");
        }
        if (!File.Exists(manifest)) throw new BatException(manifest, "file not found (expected a manifest CSV or a folder of audio files)");
        var root = Path.GetDirectoryName(Path.GetFullPath(manifest))!;
        var paths = new List<string>();
        StrictUtf8.GuardCsv(manifest, () =>
        {
            using (var csv = new TextFieldParser(manifest) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true })
            {
                csv.SetDelimiters(",");
                var header = csv.EndOfData ? null : csv.ReadFields();
                if (header is not { Length: > 0 } || header[0].Trim() != "path")
                    throw new BatException(manifest, "the first column of a manifest must be 'path'");
                while (!csv.EndOfData)
                {
                    long line = csv.LineNumber;
                    var fields = csv.ReadFields();
                    if (fields is null || fields.All(string.IsNullOrWhiteSpace)) continue;
                    var p = fields[0].Trim();
                    if (p.Length == 0) throw new BatException(manifest, $"line {line}: empty path");
                    paths.Add(Path.IsPathRooted(p) ? p : Path.Combine(root, p));
                }
            }
        });
        return paths.Count > 0 ? paths : throw new BatException(manifest, "the manifest lists no files");
    }
}
