using System.Diagnostics;
using static TorchSharp.torch;

namespace Bat.Pretraining;

/// <summary>
/// Measures pre-training speed and memory on random features (the model step only, no audio I/O):
/// steps/s, clips/s, RSS along the run and the time split of a step.
/// </summary>
public static class PretrainBench
{
    public sealed record Result(PretrainConfig Config, int Steps, double Seconds, double PeakRssMb,
        IReadOnlyList<(long Step, double RssMb)> Rss, StepTimings Timings)
    {
        public double StepsPerSecond => Steps / Seconds;
        public double ClipsPerSecond => Steps * Config.Batch / Seconds;
    }

    /// <param name="warmup">steps run before timing starts (first-call allocations, thread pools)</param>
    /// <param name="clips">null: a few batches of random clips in memory; N: N random clips streamed from disk as
    /// pre-training reads a dataset (<see cref="FileClipSource"/>), to show that RSS does not grow with N</param>
    public static Result Run(PretrainConfig config, int steps, int warmup = 3, Action<long>? progress = null, int? clips = null)
    {
        manual_seed(config.Seed);
        long[] clipShape = [1, config.Encoder.Frames, config.Encoder.MelBins];
        using var features = clips is null ? randn([Math.Max(4 * config.Batch, 16), .. clipShape]) : null;
        using var onDisk = clips is { } n ? FileClipSource.Create(RandomClips(n, clipShape), clipShape) : null;
        IClipSource data = onDisk ?? (IClipSource)new TensorClipSource(features!);
        using var trainer = new BootstrapTrainer(config with { Steps = steps + warmup });
        for (int i = 0; i < warmup; i++) trainer.TrainStep(data);
        var timings = new StepTimings();
        var rss = new List<(long, double)>();
        var clock = Stopwatch.StartNew();
        for (int i = 1; i <= steps; i++)
        {
            trainer.TrainStep(data, timings);
            rss.Add((i, Environment.WorkingSet / (1024.0 * 1024.0)));
            progress?.Invoke(i);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        using var self = Process.GetCurrentProcess();
        return new Result(config, steps, seconds, self.PeakWorkingSet64 / (1024.0 * 1024.0), rss, timings);
    }

    /// <summary>Random clips in batches of 256, each freed once written, so making N clips needs no N-sized memory.</summary>
    static IEnumerable<Tensor> RandomClips(int count, long[] clipShape)
    {
        for (int at = 0; at < count; at += 256)
            using (var batch = randn([Math.Min(256, count - at), .. clipShape]))
                yield return batch;
    }
}
