using Bat.Metrics;

namespace Bat.Data.Builders;

/// <summary>
/// An event-labelled (sound event detection) manifest from a clip manifest and an events CSV about its clips
/// (<see cref="SoundEvents"/>: path,class,onset and offset or duration), e.g. the synthetic benchmark's
/// synth-multilabel.csv and synth-multilabel-events.csv. The rows keep their paths (re-written relative to the new
/// manifest's folder), splits and folds; their labels become the classes of their events; the events are copied to
/// &lt;out&gt;-events.csv, which the new sidecar names.
/// </summary>
public static class EventManifestBuilder
{
    public sealed record Result(string Manifest, string Events, int Clips, int EventCount);

    /// <summary>The events CSV that goes with a manifest by default: x.csv -> x-events.csv (the synthetic benchmark's naming).</summary>
    public static string DefaultEventsFor(string manifestCsv) => Path.ChangeExtension(Path.GetFullPath(manifestCsv), null) + "-events.csv";

    public static Result Build(string manifestCsv, string? eventsCsv, string outCsv)
    {
        var source = Manifest.Load(manifestCsv);
        eventsCsv = Path.GetFullPath(eventsCsv ?? DefaultEventsFor(manifestCsv));
        outCsv = Path.GetFullPath(outCsv);
        if (outCsv == source.CsvPath) throw new BatException(outCsv, "is the clip manifest itself: write the event-labelled manifest to another file");
        var events = SoundEvents.Load(eventsCsv, source.Entries.Select(e => e.Path).ToHashSet(StringComparer.Ordinal),
            source.Task.Classes.ToHashSet(StringComparer.Ordinal));

        var outDir = Path.GetDirectoryName(outCsv)!;
        var entries = new List<ManifestEntry>();
        var rows = new List<(string Path, SoundEvent Event)>();
        foreach (var e in source.Entries)
        {
            var clipEvents = events.TryGetValue(e.Path, out var list) ? list : [];
            var path = BuilderUtil.RelativeTo(outDir, e.FullPath);
            entries.Add(new ManifestEntry(path, source.Task.Classes.Where(c => clipEvents.Any(v => v.Class == c)).ToList(), e.Split, e.Fold));
            rows.AddRange(clipEvents.Select(v => (path, v)));
        }
        var eventsOut = Path.ChangeExtension(outCsv, null) + "-events.csv";
        var name = Path.GetFileNameWithoutExtension(outCsv);
        var task = source.Task with
        {
            Name = name, Kind = TaskKind.Multilabel, Metric = "event_onset_f1",
            AudioRoots = BuilderUtil.AudioRoots(outDir, source.Entries.Select(e => e.FullPath)), Events = Path.GetFileName(eventsOut),
        };
        using var batch = new AtomicBatch();
        Manifest.Save(batch, outCsv, task, entries);
        SoundEvents.Save(batch, eventsOut, rows);
        batch.Commit();
        return new Result(outCsv, eventsOut, entries.Count, rows.Count);
    }
}
