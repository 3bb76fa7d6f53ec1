using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Bat.Audio;
using Bat.Frontends;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Cli.Commands;

/// <summary>
/// `bat frontend` (features of one file as CSV), `bat stats` (kaldi normalisation constants of a dataset) and
/// `bat bench frontend` (clips per second of each frontend).
/// </summary>
public static class FrontendCommands
{
    static Option<string> KindOption(bool required, params string[] kinds)
    {
        var option = new Option<string>(required ? "--kind" : "--frontend")
        {
            Description = $"Frontend: {string.Join(" | ", kinds)}.",
            Required = required,
        };
        if (!required) option.DefaultValueFactory = _ => FrontendConfig.Kaldi;
        option.AcceptOnlyFromAmong(kinds);
        return option;
    }

    static Option<int> MelBinsOption() => new("--mel-bins") { Description = "Number of mel bins.", DefaultValueFactory = _ => 128 };

    /// <summary>`bat frontend --kind K --input IN --csv OUT.csv`: one row per frame, one column per mel bin.</summary>
    public static Command Create()
    {
        var kind = KindOption(true, [.. FrontendConfig.Kinds]);
        var input = new Option<string>("--input") { Description = "Audio file (WAV, or any format ffmpeg/sox decodes).", Required = true };
        var csv = new Option<string>("--csv") { Description = "Output CSV: header m0..m{M-1}, one row per time frame.", Required = true };
        var target = new Option<int?>("--target-frames") { Description = "Zero-pad or crop time to this many frames (default: keep all)." };
        var melBins = MelBinsOption();
        var dataset = new Option<string?>("--dataset") { Description = "Normalisation constants of the kaldi kinds (frontend-norm.json name; default audioset)." };
        var command = new Command("frontend", "Compute the features of one audio file (16 kHz) and write them as CSV.")
        {
            kind, input, csv, target, melBins, dataset,
        };
        command.SetGuardedAction(parse =>
        {
            var config = FrontendConfig.For(parse.GetValue(kind)!, parse.GetValue(melBins), parse.GetValue(target), parse.GetValue(dataset));
            var path = parse.GetValue(csv)!;
            Preflight.EnsureWritableFile(path);
            var clip = AudioReader.Load(parse.GetValue(input)!);
            Frontend.CheckLength(clip, config);
            using var scope = NewDisposeScope();
            var features = Frontend.Create(config).Compute(tensor(clip.Samples).unsqueeze(0));   // (1, 1, T, M)
            int frames = (int)features.shape[2], bins = (int)features.shape[3];
            var values = features.data<float>().ToArray();
            WriteFeatureCsv(path, values, frames, bins);
            parse.InvocationConfiguration.Output.WriteLine(
                $"{path}: {frames} frames x {bins} mel bins ({config.Kind}{(config.NormName is null ? "" : $", norm {config.NormName}")})");
            return 0;
        });
        return command;
    }

    /// <summary>Writes the features as CSV, streamed row by row into the temporary file (a long clip's text is hundreds of MB).</summary>
    internal static void WriteFeatureCsv(string path, float[] values, int frames, int bins) =>
        AtomicFile.Write(path, stream =>
        {
            using var text = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            text.WriteLine(string.Join(',', Enumerable.Range(0, bins).Select(m => $"m{m}")));
            Span<char> number = stackalloc char[32];
            for (int t = 0; t < frames; t++)
            {
                for (int m = 0; m < bins; m++)
                {
                    if (m > 0) text.Write(',');
                    values[t * bins + m].TryFormat(number, out int length, "R", CultureInfo.InvariantCulture);
                    text.Write(number[..length]);
                }
                text.Write('\n');
            }
        });

    /// <summary>`bat stats --manifest M --frontend kaldi`: mean and std of the fbank over a dataset.</summary>
    public static Command Stats()
    {
        var manifest = new Option<string>("--manifest") { Description = "Manifest CSV (first column 'path') or a folder of audio files.", Required = true };
        var kind = KindOption(false, FrontendConfig.Kaldi, FrontendConfig.KaldiBeats);
        var melBins = MelBinsOption();
        var save = new Option<string?>("--save") { Description = "Store the constants under this name in frontend-norm.json." };
        var normFile = new Option<string?>("--norm-file") { Description = $"File to store into (default: this checkout's {FrontendNorm.RelativePath})." };
        var command = new Command("stats", "Mean and std of the kaldi fbank over a dataset: normalisation constants for a new dataset.")
        {
            manifest, kind, melBins, save, normFile,
        };
        command.SetGuardedAction(parse =>
        {
            var source = parse.GetValue(manifest)!;
            var savePath = parse.GetValue(save) is null ? null : parse.GetValue(normFile) ?? FrontendNorm.FindInCheckout() ?? FrontendNorm.RelativePath;
            if (savePath is not null) Preflight.EnsureWritableFile(savePath);
            var files = FrontendStats.AudioFiles(source);
            var frontend = new KaldiFrontend(FrontendConfig.Unnormalised(parse.GetValue(kind)!, parse.GetValue(melBins)));
            var stats = FrontendStats.Measure(frontend, files);
            var output = parse.InvocationConfiguration.Output;
            output.WriteLine($"{frontend.Config.Kind} fbank, {frontend.Config.MelBins} mel bins, {files.Count} files, {stats.Frames} frames: " +
                             $"mean {stats.Mean.ToString("F5", CultureInfo.InvariantCulture)} std {stats.Std.ToString("F5", CultureInfo.InvariantCulture)}");
            if (parse.GetValue(save) is string name)
            {
                var path = savePath!;
                var current = File.Exists(path) ? FrontendNorm.Load(path) : FrontendNorm.Load();
                var entry = new NormConstants(frontend.Config.Kind, name, frontend.Config.MelBins, Math.Round(stats.Mean, 5), Math.Round(stats.Std, 5),
                    $"bat stats over {source} ({files.Count} files, {stats.Frames} frames, {DateTime.UtcNow:yyyy-MM-dd})");
                current.With(entry).Save(path);
                output.WriteLine($"saved as '{name}' in {path}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>`bat bench frontend`: clips per second of each frontend at batch 1 and 16, relative to "bat" at batch 1.</summary>
    public static Command Bench()
    {
        var seconds = new Option<double>("--seconds") { Description = "Clip length in seconds.", DefaultValueFactory = _ => 10 };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per cell (after one warm-up run).", DefaultValueFactory = _ => 5 };
        var melBins = MelBinsOption();
        var command = new Command("frontend", "Clips per second of each frontend on synthetic clips, at batch 1 and 16.")
        {
            seconds, repeats, melBins,
        };
        command.SetGuardedAction(parse =>
        {
            double length = parse.GetValue(seconds);
            int runs = parse.GetValue(repeats), bins = parse.GetValue(melBins);
            if (length < 0.1 || length > 600) throw new ArgumentException($"--seconds must be in 0.1..600, not {length}");
            if (runs < 1) throw new ArgumentException($"--repeats must be positive, not {runs}");
            var device = Devices.Default;
            var output = parse.InvocationConfiguration.Output;
            output.WriteLine($"frontend bench: {length:0.##} s clips at 16 kHz, {bins} mel bins, {runs} timed runs per cell, " +
                             $"device {device}, {torch.get_num_threads()} threads");
            output.WriteLine($"{"frontend",-12} {"batch",5} {"clips/s",10} {"ms/clip",9} {"vs bat@1",9}");
            double? reference = null;
            foreach (var kind in FrontendConfig.Kinds)
            {
                // The kaldi kinds' constants only shift and scale: any set gives the same speed.
                var config = kind == FrontendConfig.Bat ? FrontendConfig.For(kind, bins)
                    : FrontendConfig.Unnormalised(kind, bins) with { NormMean = 0, NormStd = 1 };
                var frontend = Frontend.Create(config);
                foreach (int batch in new[] { 1, 16 })
                {
                    double rate = ClipsPerSecond(frontend, batch, (int)(length * FrontendConfig.SampleRate), runs, device);
                    reference ??= rate;
                    output.WriteLine($"{kind,-12} {batch,5} {rate,10:F1} {1000 / rate,9:F2} {rate / reference.Value,8:F2}x");
                }
            }
            return 0;
        });
        return command;
    }

    static double ClipsPerSecond(IFrontend frontend, int batch, int samples, int runs, Device device)
    {
        using var scope = NewDisposeScope();
        // Synthetic clip: a 440 Hz tone in seeded noise, the same for every frontend.
        var generator = new Generator(1234);
        var t = arange(samples, dtype: ScalarType.Float32) / (float)FrontendConfig.SampleRate;
        var wave = (0.3f * sin(2 * Math.PI * 440 * t) + 0.05f * randn([batch, samples], generator: generator)).to(device);
        frontend.Compute(wave).Dispose();   // warm-up: caches, allocator, lazy init
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < runs; i++)
        {
            using var features = frontend.Compute(wave);
            if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
        }
        return (double)batch * runs / clock.Elapsed.TotalSeconds;
    }
}
