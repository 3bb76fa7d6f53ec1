using System.Globalization;
using Bat.Metrics;

namespace Bat.Data;

/// <summary>
/// The events CSV of an event-labelled (sound event detection) manifest: <c>path,class,onset</c> and either
/// <c>offset</c> or <c>duration</c>, in seconds (other columns are ignored, e.g. the synthetic benchmark's snr_db).
/// <c>path</c> is the clip's path as the manifest writes it. The manifest's sidecar names the file in its
/// <see cref="TaskInfo.Events"/>; see docs/method.md, "Sound event detection".
/// </summary>
public static class SoundEvents
{
    public static readonly string[] Columns = ["path", "class", "onset", "offset"];

    /// <summary>
    /// Reads an events CSV for the clips of <paramref name="manifest"/>-to-be: every row's path must be one of
    /// <paramref name="paths"/> and its class in <paramref name="classes"/>; onset >= 0 and offset > onset, finite.
    /// Returns each path's events in file order (clips without events are absent). Errors name the file and line.
    /// </summary>
    public static Dictionary<string, List<SoundEvent>> Load(string csvPath, ISet<string> paths, ISet<string> classes)
    {
        if (!File.Exists(csvPath)) throw new BatException(csvPath, "events CSV not found");
        var events = new Dictionary<string, List<SoundEvent>>(StringComparer.Ordinal);
        StrictUtf8.GuardCsv(csvPath, () =>
        {
            using var csv = CsvHelper.CsvReader.FromFile(csvPath, CsvFiles.ReaderOptions);
            var header = csv.Headers;
            bool hasOffset = header.Contains("offset"), hasDuration = header.Contains("duration");
            foreach (var column in new[] { "path", "class", "onset" })
                if (!header.Contains(column))
                    throw new BatException(csvPath, $"missing column '{column}' (header is '{string.Join(",", header)}', expected path,class,onset,offset or path,class,onset,duration)");
            if (!hasOffset && !hasDuration)
                throw new BatException(csvPath, $"needs an 'offset' or a 'duration' column (header is '{string.Join(",", header)}')");
            while (csv.Read())
            {
                int line = (int)csv.LineNumber;
                string path = csv.GetString("path") ?? "", cls = csv.GetString("class") ?? "";
                if (!paths.Contains(path)) throw new BatException(csvPath, $"line {line}: '{path}' is not a clip of the manifest");
                if (!classes.Contains(cls)) throw new BatException(csvPath, $"line {line}: unknown class '{cls}' (not in the task's class list)");
                double onset = Seconds(csvPath, line, "onset", csv.GetString("onset"));
                double offset = hasOffset ? Seconds(csvPath, line, "offset", csv.GetString("offset"))
                    : onset + Seconds(csvPath, line, "duration", csv.GetString("duration"));
                if (onset < 0) throw new BatException(csvPath, $"line {line}: onset {onset} is negative");
                if (!(offset > onset)) throw new BatException(csvPath, $"line {line}: the event ends ({offset} s) before it starts ({onset} s)");
                if (!events.TryGetValue(path, out var list)) events[path] = list = [];
                list.Add(new SoundEvent(cls, onset, offset));
            }
        });
        return events;
    }

    static double Seconds(string csvPath, int line, string column, string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new BatException(csvPath, $"line {line}: {column} '{text}' is not a number of seconds");

    /// <summary>Stages an events CSV (path,class,onset,offset; round-trip precision) in <paramref name="batch"/>.</summary>
    public static void Save(AtomicBatch batch, string csvPath, IEnumerable<(string Path, SoundEvent Event)> rows) =>
        CsvFiles.Write(batch, csvPath, Columns, rows.Select(r => new[]
        {
            r.Path, r.Event.Class, r.Event.Onset.ToString("R", CultureInfo.InvariantCulture), r.Event.Offset.ToString("R", CultureInfo.InvariantCulture),
        }));

    /// <summary>
    /// The ms between the starts of two time patches: the official int(1000 * hop / sr * patch_size)
    /// (data/factory.py), 160 ms for a 10 ms hop and 16-frame patches.
    /// </summary>
    public static int PatchMilliseconds(int patchSize, int hopSamples = 160, int sampleRate = 16000) =>
        (int)(1000.0 * hopSamples / sampleRate * patchSize);

    /// <summary>
    /// Frame targets of one clip, (T, C) row-major: patch t is active for class c when an event of c covers its time
    /// t * patchMs, ends included (the official DCASE2016Task2Dataset: patch_centers = arange(T) * patch_stride_ms,
    /// active = (centers >= start_ms) &amp; (centers &lt;= end_ms); the "centres" are the patches' start times).
    /// </summary>
    public static float[] FrameTargets(IEnumerable<SoundEvent> events, Func<string, int> classIndex, int classes, int timePatches, int patchMs)
    {
        var targets = new float[timePatches * classes];
        foreach (var e in events)
        {
            int c = classIndex(e.Class);
            double startMs = e.Onset * 1000, endMs = e.Offset * 1000;
            for (int t = 0; t < timePatches; t++)
            {
                double centre = (double)t * patchMs;
                if (centre >= startMs && centre <= endMs) targets[t * classes + c] = 1;
            }
        }
        return targets;
    }
}
