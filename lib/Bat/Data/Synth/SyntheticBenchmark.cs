using System.Diagnostics;
using System.Globalization;
using Bat.Audio;

namespace Bat.Data.Synth;

/// <summary>What a synthetic benchmark folder was generated with; stored in its marker file.</summary>
public sealed record SynthConfig(int Clips, int Seed, double Seconds = 5, int SampleRate = 16000, int Version = SyntheticBenchmark.Version)
{
    public int Samples => (int)Math.Round(Seconds * SampleRate);
}

/// <summary>The two task manifests of a synthetic benchmark folder.</summary>
public sealed record SynthManifests(string MultiLabel, string SingleLabel)
{
    public IReadOnlyList<string> All => [MultiLabel, SingleLabel];
}

/// <summary>One event placed in a scene (written to the *-events.csv next to each manifest).</summary>
public sealed record SynthEvent(string Class, double Onset, double Duration, double SnrDb);

/// <summary>Generation summary: time taken and per-class counts per split, for each task.</summary>
public sealed record SynthReport(SynthManifests Manifests, TimeSpan Elapsed, int Files,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, int[]>> Counts)
{
    /// <summary>Class-balance table: one row per class, train/valid/test counts for each task.</summary>
    public string BalanceTable()
    {
        var w = new StringWriter();
        var tasks = Counts.Keys.ToList();
        w.Write($"{"class",-18}");
        foreach (var t in tasks) w.Write($" {t + " tr/va/te",24}");
        w.WriteLine();
        foreach (var cls in EventClasses.Names)
        {
            w.Write($"{cls,-18}");
            foreach (var t in tasks)
            {
                var c = Counts[t][cls];
                w.Write($" {$"{c[0]}/{c[1]}/{c[2]}",24}");
            }
            w.WriteLine();
        }
        return w.ToString();
    }
}

/// <summary>
/// The embedded default benchmark: polyphonic synthetic scenes of 16 event classes (see
/// <see cref="EventClasses"/>) over coloured background noise, as 16 kHz 16-bit WAVs plus two tasks:
/// <list type="bullet">
/// <item>synth-multilabel: 1-4 distinct events per clip at random onsets, lengths and SNR (-6..+18 dB), may
/// overlap; metric mAP.</item>
/// <item>synth-singlelabel: one event per clip (classes balanced), SNR -3..+18 dB; metric accuracy.</item>
/// </list>
/// Splits train/valid/test = 70/15/15. Every clip is rendered from its own random stream (seed, task, index),
/// so the output is identical for any thread count.
/// </summary>
public static class SyntheticBenchmark
{
    /// <summary>Bumped whenever the rendering changes, so <see cref="Ensure"/> regenerates stale folders.</summary>
    public const int Version = 1;
    public const string MarkerFile = "synth.json";
    public static readonly string[] SplitNames = ["train", "valid", "test"];

    const int MultiStream = 1, SingleStream = 2, SplitStream = 3;

    public static SynthManifests PathsIn(string dir) =>
        new(Path.Combine(Path.GetFullPath(dir), "synth-multilabel.csv"), Path.Combine(Path.GetFullPath(dir), "synth-singlelabel.csv"));

    /// <summary>
    /// Makes the benchmark in <paramref name="dir"/> unless a complete one with the same config is already there
    /// (the marker file is written last, so an interrupted run is regenerated). Returns the manifest paths.
    /// </summary>
    public static SynthManifests Ensure(string dir, int clips, int seed, double seconds = 5)
    {
        var config = new SynthConfig(clips, seed, seconds);
        if (IsComplete(dir, config)) return PathsIn(dir);
        // Two processes (e.g. notebooks run side by side) may ask for the same folder: one generates, the other
        // waits on the lock file and then finds the marker.
        Directory.CreateDirectory(dir);
        using var _ = AcquireLock(Path.Combine(dir, ".synth.lock"));
        return IsComplete(dir, config) ? PathsIn(dir) : Generate(dir, config).Manifests;
    }

    static bool IsComplete(string dir, SynthConfig config)
    {
        var paths = PathsIn(dir);
        var marker = Path.Combine(dir, MarkerFile);
        if (!File.Exists(marker) || !File.Exists(paths.MultiLabel) || !File.Exists(paths.SingleLabel)) return false;
        try { return Json.Load<SynthConfig>(marker) == config; }
        catch (BatException) { return false; }   // unreadable marker: regenerate
    }

    static FileStream AcquireLock(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(30);
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(200); }
        }
    }

    /// <summary>Generates (or regenerates) the benchmark, in parallel over clips.</summary>
    public static SynthReport Generate(string dir, SynthConfig config, bool progress = false)
    {
        if (config.Clips < SplitNames.Length) throw new BatException(dir, $"need at least {SplitNames.Length} clips, got {config.Clips}");
        if (!(config.Seconds >= 0.5)) throw new BatException(dir, $"clip length {config.Seconds} s is too short (min 0.5 s)");
        var clock = Stopwatch.StartNew();
        dir = Path.GetFullPath(dir);
        var paths = PathsIn(dir);
        // Remove only what this generator owns, marker first so a crash mid-way never looks complete.
        Directory.CreateDirectory(dir);
        var marker = Path.Combine(dir, MarkerFile);
        File.Delete(marker);
        foreach (var sub in new[] { "multilabel", "singlelabel" })
        {
            var folder = Path.Combine(dir, "audio", sub);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.CreateDirectory(folder);
        }

        var multiSplits = ShuffledSplits(config.Clips, new SynthRng(config.Seed, SplitStream, 0));
        var singleClasses = new int[config.Clips];
        var singleSplits = StratifiedSplits(config, singleClasses);
        var multiEvents = new IReadOnlyList<SynthEvent>[config.Clips];
        var singleEvents = new IReadOnlyList<SynthEvent>[config.Clips];

        int done = 0;
        using (var bar = progress ? new ConsoleProgress("synth", 2L * config.Clips) : null)
        {
            Parallel.For(0, 2 * config.Clips, job =>
            {
                bool multi = job < config.Clips;
                int i = multi ? job : job - config.Clips;
                var (audio, events) = multi ? RenderMultiLabel(config, i) : RenderSingleLabel(config, i, singleClasses[i]);
                // Plain writes are safe here: the marker file, written last, is what makes the folder complete.
                File.WriteAllBytes(Path.Combine(dir, "audio", multi ? "multilabel" : "singlelabel", ClipName(i)),
                    WavWriter.Encode(audio, config.SampleRate, bits: 16));
                (multi ? multiEvents : singleEvents)[i] = events;
                int d = Interlocked.Increment(ref done);
                if (bar is not null && d % 50 == 0) lock (bar) bar.Report(d);
            });
            bar?.Report(2L * config.Clips);
        }

        var classes = EventClasses.Names;
        var counts = new Dictionary<string, IReadOnlyDictionary<string, int[]>>();
        WriteTask(paths.MultiLabel, new TaskInfo("synth-multilabel", TaskKind.Multilabel, classes, config.SampleRate, config.Seconds, "mAP"),
            "multilabel", multiSplits, multiEvents, counts);
        WriteTask(paths.SingleLabel, new TaskInfo("synth-singlelabel", TaskKind.Multiclass, classes, config.SampleRate, config.Seconds, "accuracy"),
            "singlelabel", singleSplits, singleEvents, counts);
        Json.Save(marker, config);
        return new SynthReport(paths, clock.Elapsed, 2 * config.Clips, counts);
    }

    static string ClipName(int i) => $"{i:D6}.wav";

    static void WriteTask(string csv, TaskInfo task, string sub, string[] splits, IReadOnlyList<SynthEvent>[] events,
        Dictionary<string, IReadOnlyDictionary<string, int[]>> counts)
    {
        var entries = new List<ManifestEntry>();
        var table = task.Classes.ToDictionary(c => c, _ => new int[SplitNames.Length]);
        for (int i = 0; i < splits.Length; i++)
        {
            var labels = task.Classes.Where(c => events[i].Any(e => e.Class == c)).ToList();   // class-list order
            entries.Add(new ManifestEntry($"audio/{sub}/{ClipName(i)}", labels, splits[i]));
            foreach (var l in labels) table[l][Array.IndexOf(SplitNames, splits[i])]++;
        }
        Manifest.Save(csv, task, entries);
        counts[task.Name] = table;
        var eventsCsv = Path.ChangeExtension(csv, null) + "-events.csv";
        CsvFiles.Write(eventsCsv, ["path", "class", "onset", "duration", "snr_db"],
            Enumerable.Range(0, events.Length).SelectMany(i => events[i].Select(e => new[]
            {
                entries[i].Path, e.Class, e.Onset.ToString("0.000", CultureInfo.InvariantCulture),
                e.Duration.ToString("0.000", CultureInfo.InvariantCulture), e.SnrDb.ToString("0.0", CultureInfo.InvariantCulture),
            })));
    }

    static string SplitOf(int rank, int count)
    {
        // 70/15/15 by rank; with few items every split still gets at least one when count >= 3.
        int train = Math.Max(1, (int)Math.Round(0.70 * count)), valid = Math.Max(1, (int)Math.Round(0.15 * count));
        if (train + valid >= count) train = Math.Max(1, count - valid - 1);
        return rank < train ? "train" : rank < train + valid ? "valid" : "test";
    }

    static string[] ShuffledSplits(int n, SynthRng rng)
    {
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order);
        var splits = new string[n];
        for (int rank = 0; rank < n; rank++) splits[order[rank]] = SplitOf(rank, n);
        return splits;
    }

    /// <summary>Single-label: class i mod C (balanced), splits 70/15/15 within each class.</summary>
    static string[] StratifiedSplits(SynthConfig config, int[] classOf)
    {
        int c = EventClasses.All.Count, n = classOf.Length;
        var splits = new string[n];
        for (int k = 0; k < c; k++)
        {
            var members = Enumerable.Range(0, n).Where(i => i % c == k).ToArray();
            new SynthRng(config.Seed, SplitStream, 1 + k).Shuffle(members);
            for (int rank = 0; rank < members.Length; rank++)
            {
                classOf[members[rank]] = k;
                splits[members[rank]] = members.Length >= 3 ? SplitOf(rank, members.Length) : SplitNames[rank % 3];
            }
        }
        return splits;
    }

    /// <summary>Multi-label scene i: 1-4 distinct classes, SNR -6..+18 dB, random onsets and lengths.</summary>
    public static (float[] Audio, IReadOnlyList<SynthEvent> Events) RenderMultiLabel(SynthConfig config, int index)
    {
        var rng = new SynthRng(config.Seed, MultiStream, index);
        int count = rng.Int(1, 4);
        var pool = Enumerable.Range(0, EventClasses.All.Count).ToArray();
        rng.Shuffle(pool);
        return RenderScene(config, rng, pool.Take(count).ToArray(), minSnr: -6, maxSnr: 18);
    }

    /// <summary>Single-label clip i: one event of class <paramref name="classIndex"/>, SNR -3..+18 dB.</summary>
    public static (float[] Audio, IReadOnlyList<SynthEvent> Events) RenderSingleLabel(SynthConfig config, int index, int classIndex)
    {
        var rng = new SynthRng(config.Seed, SingleStream, index);
        return RenderScene(config, rng, [classIndex], minSnr: -3, maxSnr: 18);
    }

    static (float[] Audio, IReadOnlyList<SynthEvent> Events) RenderScene(SynthConfig config, SynthRng rng, int[] classes,
        double minSnr, double maxSnr)
    {
        int sr = config.SampleRate, n = config.Samples;
        // Background: one of four noise colours at -50..-30 dBFS RMS with a slow +-3 dB level drift.
        var colour = (Dsp.NoiseColour)rng.Int(0, 3);
        var mix = Dsp.Noise(rng, n, colour, sr);
        double bgRms = Math.Pow(10, rng.Uniform(-50, -30) / 20);
        Dsp.Scale(mix, bgRms / Math.Max(1e-12, Dsp.Rms(mix)));
        double driftRate = rng.Uniform(0.05, 0.4), driftPhase = rng.Uniform(0, 2 * Math.PI);
        for (int start = 0; start < n; start += 64)   // the drift is slow: one gain per 4 ms block is plenty
        {
            var gain = (float)Math.Pow(10, 3 * Math.Sin(2 * Math.PI * driftRate * (start + 32) / sr + driftPhase) / 20);
            for (int i = start; i < Math.Min(n, start + 64); i++) mix[i] *= gain;
        }

        var events = new List<SynthEvent>();
        foreach (var k in classes)
        {
            var cls = EventClasses.All[k];
            double duration = Math.Min(rng.Uniform(cls.MinSeconds, cls.MaxSeconds), config.Seconds);
            double onset = rng.Uniform(0, config.Seconds - duration);
            double snr = rng.Uniform(minSnr, maxSnr);
            int start = (int)(onset * sr), len = Math.Max(1, Math.Min((int)(duration * sr), n - start));
            var x = cls.Render(rng, len, sr);
            // Level relative to the background over the event's own span: SNR = 20 log10(rms_event / rms_bg).
            Dsp.Scale(x, bgRms * Math.Pow(10, snr / 20) / Math.Max(1e-12, Dsp.Rms(x)));
            for (int i = 0; i < len; i++) mix[start + i] += x[i];
            events.Add(new SynthEvent(cls.Name, onset, (double)len / sr, snr));
        }
        // Keep 16-bit headroom: scale the whole clip down if it would clip (SNRs are unchanged).
        float peak = 0;
        foreach (var v in mix) peak = Math.Max(peak, Math.Abs(v));
        if (peak > 0.9f) Dsp.Scale(mix, 0.9 / peak);
        return (mix, events);
    }
}
