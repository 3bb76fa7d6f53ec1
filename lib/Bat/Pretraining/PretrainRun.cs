using System.Diagnostics;
using System.Globalization;
using System.Text;
using Bat.Training;

namespace Bat.Pretraining;

/// <summary>
/// A pre-training run in a folder: RUN/config.json, RUN/metrics.csv, RUN/checkpoints/. Drives
/// <see cref="BootstrapTrainer"/> step by step, logs, checkpoints every N steps, at the end and on cancellation,
/// and resumes from the newest good checkpoint.
/// </summary>
public static class PretrainRun
{
    public sealed record Summary(long Step, bool Completed, double FinalLoss, double ClipsPerSecond, string RunDir);

    public static string MetricsPath(string runDir) => Path.Combine(runDir, "metrics.csv");

    /// <summary>The config a run folder was started with, or null when it has none yet.</summary>
    public static PretrainConfig? SavedConfig(string runDir) =>
        File.Exists(Checkpoint.ConfigPath(runDir)) ? Json.Load<PretrainConfig>(Checkpoint.ConfigPath(runDir)) : null;

    /// <summary>True when the run folder holds a verified checkpoint at (or past) its configured last step.</summary>
    public static bool IsComplete(string runDir)
    {
        if (SavedConfig(runDir) is not { } config) return false;
        var newest = Checkpoint.All(runDir).FirstOrDefault();
        if (newest is null) return false;
        try { return Checkpoint.Read(newest).Header.Step >= config.Steps; }
        catch (BatException) { return false; }
    }

    /// <summary>The rows of RUN/metrics.csv (empty when the run has none yet).</summary>
    public static IReadOnlyList<MetricsRow> ReadMetrics(string runDir)
    {
        var path = MetricsPath(runDir);
        if (!File.Exists(path)) return [];
        var rows = new List<MetricsRow>();
        foreach (var (line, number) in File.ReadLines(path).Select((l, i) => (l, i + 1)).Skip(1))
        {
            var f = line.Split(',');
            try
            {
                double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
                rows.Add(new MetricsRow(long.Parse(f[0], CultureInfo.InvariantCulture), D(1), D(2), D(3), D(4), D(5), D(6), D(7),
                    f.Length > 8 ? D(8) : double.NaN,   // runs written before the collapse check have 8 columns
                    f.Length > 9 ? D(9) : double.NaN,   // and before the rank check 9
                    f.Length > 10 ? D(10) : double.NaN)); // and before the content error 10
            }
            catch (Exception e) when (e is FormatException or IndexOutOfRangeException or OverflowException)
            {
                throw new BatException(path, $"line {number}: expected {MetricsLog.HeaderLine}");
            }
        }
        return rows;
    }

    public static Summary Execute(PretrainConfig config, IClipSource data, string runDir, bool resume,
        CancellationToken cancel = default, string label = "pretrain")
    {
        config.Validate();
        Preflight.EnsureWritable(runDir);
        bool hasCheckpoints = Checkpoint.All(runDir).Any();
        if (hasCheckpoints && !resume)
            throw new BatException(runDir, "already holds checkpoints; pass --resume to continue it or choose another folder");
        if (resume && SavedConfig(runDir) is { } saved)
        {
            // Only the length of the run and how often it checkpoints may change between sessions.
            var comparable = saved with { Steps = config.Steps, CheckpointEvery = config.CheckpointEvery, LogEvery = config.LogEvery };
            if (Json.Serialize(comparable) != Json.Serialize(config))
                throw new BatException(Checkpoint.ConfigPath(runDir), "differs from this run's settings; resume with the same options or use another folder");
        }
        Json.Save(Checkpoint.ConfigPath(runDir), config);

        using var trainer = new BootstrapTrainer(config);
        if (resume && trainer.Resume(runDir))
            Console.Error.WriteLine($"{label}: resumed at step {trainer.Step}");
        var metrics = new MetricsLog(MetricsPath(runDir), trainer.Step);
        long lastSaved = hasCheckpoints ? trainer.Step : -1;

        using var progress = new ConsoleProgress(label, config.Steps);
        var clock = Stopwatch.StartNew();
        long stepsThisSession = 0;
        StepResult? last = null;
        double lastClipsPerSecond = 0;
        while (trainer.Step < config.Steps && !cancel.IsCancellationRequested)
        {
            var started = clock.Elapsed;
            last = trainer.TrainStep(data);
            stepsThisSession++;
            lastClipsPerSecond = config.Batch / Math.Max(1e-9, (clock.Elapsed - started).TotalSeconds);
            metrics.Add(last, lastClipsPerSecond, Environment.WorkingSet / (1024.0 * 1024.0));
            progress.Report(trainer.Step,
                $"loss {last.Loss:F4} lr {last.LearningRate:E2} {stepsThisSession * config.Batch / clock.Elapsed.TotalSeconds:F1} clips/s");
            if (trainer.Step % config.LogEvery == 0) metrics.Flush();
            if (config.CheckpointEvery > 0 && trainer.Step % config.CheckpointEvery == 0 && trainer.Step < config.Steps)
            {
                trainer.SaveCheckpoint(runDir);
                lastSaved = trainer.Step;
            }
        }
        // At the end, and when interrupted (Ctrl-C), keep what was learnt.
        if (lastSaved != trainer.Step) trainer.SaveCheckpoint(runDir);
        metrics.Flush();
        bool completed = trainer.Step >= config.Steps;
        if (!completed) Console.Error.WriteLine($"{label}: stopped at step {trainer.Step}; checkpoint saved, continue with --resume");
        return new Summary(trainer.Step, completed, last?.Loss ?? double.NaN, lastClipsPerSecond, runDir);
    }
}

public sealed record MetricsRow(long Step, double Loss, double FrameLoss, double UtteranceLoss, double LearningRate,
    double EmaDecay, double ClipsPerSecond, double RssMb, double ContentShare, double ClsRank, double ContentError);

/// <summary>
/// RUN/metrics.csv, rewritten atomically from memory on every flush. On resume the rows after the checkpoint's
/// step are dropped, so the file always matches the run's history.
/// </summary>
public sealed class MetricsLog
{
    public const string HeaderLine = "step,loss,frame_loss,utterance_loss,lr,ema_decay,clips_per_s,rss_mb,content_share,cls_rank,content_error";
    readonly string path;
    readonly List<string> rows = [];

    public MetricsLog(string path, long keepUpToStep)
    {
        this.path = path;
        if (!File.Exists(path)) return;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var first = line.Split(',', 2)[0];
            if (long.TryParse(first, CultureInfo.InvariantCulture, out var step) && step <= keepUpToStep) rows.Add(line);
        }
    }

    public void Add(StepResult r, double clipsPerSecond, double rssMb) =>
        rows.Add(string.Join(",",
            r.Step.ToString(CultureInfo.InvariantCulture), F(r.Loss), F(r.FrameLoss), F(r.UtteranceLoss), F(r.LearningRate),
            F(r.EmaDecay), F(clipsPerSecond), F(rssMb), F(r.ContentShare), F(r.ClsRank), F(r.ContentError)));

    static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public void Flush()
    {
        var text = new StringBuilder(HeaderLine).Append('\n');
        foreach (var row in rows) text.Append(row).Append('\n');
        AtomicFile.WriteAllText(path, text.ToString());
    }
}
