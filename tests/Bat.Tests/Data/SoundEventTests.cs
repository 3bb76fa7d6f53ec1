using Bat.Data;
using Bat.Data.Builders;
using Bat.Data.Synth;
using Bat.Metrics;

namespace Bat.Tests.Data;

/// <summary>Event-labelled manifests: the events CSV, its checks, and `bat data manifest events` on the synthetic benchmark.</summary>
public class SoundEventTests
{
    [Fact]
    public void SynthEventsBecomeAnEventLabelledManifestWithTheSameClipsSplitsAndEvents()
    {
        using var dir = new TempDir();
        var synth = SyntheticBenchmark.Ensure(dir["synth"], clips: 12, seed: 3, seconds: 1);
        var r = EventManifestBuilder.Build(synth.MultiLabel, null, dir["sed/synth-sed.csv"].Also(Directory.CreateDirectory));
        var source = Manifest.Load(synth.MultiLabel);
        var sed = Manifest.Load(r.Manifest, checkAudio: true);
        Assert.True(sed.Task.HasEvents);
        Assert.Equal("synth-sed", sed.Task.Name);
        Assert.Equal(source.Entries.Select(e => (e.FullPath, e.Split)), sed.Entries.Select(e => (e.FullPath, e.Split)));
        Assert.Equal(source.Entries.Select(e => e.Labels), sed.Entries.Select(e => e.Labels));   // the classes present
        // Every event of the generator's CSV, onset and onset + duration, on its clip.
        var written = File.ReadAllLines(Path.ChangeExtension(synth.MultiLabel, null) + "-events.csv").Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(written.Count, r.EventCount);
        foreach (var (row, i) in written.Select((w, i) => (w, i)))
        {
            var clip = sed.Entries.Single(e => e.FullPath == Path.GetFullPath(Path.Combine(dir["synth"], row[0])));
            Assert.Contains(new SoundEvent(row[1], double.Parse(row[2]), double.Parse(row[2]) + double.Parse(row[3])), sed.EventsOf(clip));
        }
        // The clip manifest itself stays a clip-level task.
        Assert.False(source.Task.HasEvents);
        Assert.Throws<BatException>(() => source.EventsOf(source.Entries[0]));
    }

    [Fact]
    public void NotebookDataFoldersLeaveEventLabelledManifestsOut()
    {
        using var dir = new TempDir();
        var synth = SyntheticBenchmark.Ensure(dir["synth"], clips: 48, seed: 3, seconds: 0.5);   // 3 per class: every split of the single-label task
        var sed = EventManifestBuilder.Build(synth.MultiLabel, null, dir["synth/synth-sed.csv"]).Manifest;
        var data = Bat.Experiments.ExperimentData.FromFolder(dir["synth"]);
        Assert.Equal([synth.MultiLabel, synth.SingleLabel], data.ProbeManifests);
        Assert.DoesNotContain(sed, data.ProbeManifests);
    }

    static string EventTask(TempDir dir, string eventsCsv)
    {
        var csv = dir["task.csv"];
        Manifest.Save(csv, new TaskInfo("t", TaskKind.Multilabel, ["a", "b"], Events: "task-events.csv"),
            [new ManifestEntry("x.wav", ["a"], "train"), new ManifestEntry("y.wav", [], "test")]);
        File.WriteAllText(dir["task-events.csv"], eventsCsv);
        return csv;
    }

    [Fact]
    public void EventsWithDurationOrOffsetLoadAndClipsWithoutEventsHaveNone()
    {
        using var dir = new TempDir();
        var m = Manifest.Load(EventTask(dir, "path,class,onset,duration,snr_db\nx.wav,a,0.5,0.25,3\nx.wav,b,1,2,0\n"));
        Assert.Equal([new SoundEvent("a", 0.5, 0.75), new SoundEvent("b", 1, 3)], m.EventsOf(m.Entries[0]));
        Assert.Empty(m.EventsOf(m.Entries[1]));
        File.WriteAllText(dir["task-events.csv"], "path,class,onset,offset\ny.wav,b,0.125,0.5\n");
        Assert.Equal([new SoundEvent("b", 0.125, 0.5)], Manifest.Load(dir["task.csv"]).EventsOf(Manifest.Load(dir["task.csv"]).Entries[1]));
    }

    [Theory]
    [InlineData("path,class,onset\nx.wav,a,0\n", "needs an 'offset' or a 'duration' column")]
    [InlineData("path,onset,offset\nx.wav,0,1\n", "missing column 'class'")]
    [InlineData("path,class,onset,offset\nz.wav,a,0,1\n", "line 2: 'z.wav' is not a clip of the manifest")]
    [InlineData("path,class,onset,offset\nx.wav,c,0,1\n", "line 2: unknown class 'c'")]
    [InlineData("path,class,onset,offset\nx.wav,a,1,0.5\n", "line 2: the event ends (0.5 s) before it starts (1 s)")]
    [InlineData("path,class,onset,offset\nx.wav,a,-1,0.5\n", "line 2: onset -1 is negative")]
    [InlineData("path,class,onset,offset\nx.wav,a,soon,1\n", "line 2: onset 'soon' is not a number of seconds")]
    public void MalformedEventsAreOneErrorNamingTheEventsFileAndLine(string eventsCsv, string problem)
    {
        using var dir = new TempDir();
        var csv = EventTask(dir, eventsCsv);
        var e = Assert.Throws<BatException>(() => Manifest.Load(csv));
        Assert.Equal($"{dir["task-events.csv"]}: {problem}", e.Message[..Math.Min(e.Message.Length, dir["task-events.csv"].Length + 2 + problem.Length)]);
    }

    [Fact]
    public void AMissingEventsFileOrASingleLabelEventTaskIsRefused()
    {
        using var dir = new TempDir();
        var csv = EventTask(dir, "path,class,onset,offset\n");
        File.Delete(dir["task-events.csv"]);
        Assert.Equal($"{dir["task-events.csv"]}: events CSV not found", Assert.Throws<BatException>(() => Manifest.Load(csv)).Message);
        var e = Assert.Throws<BatException>(() => Manifest.Save(dir["single.csv"], new TaskInfo("s", TaskKind.Multiclass, ["a"], Events: "e.csv"), []));
        Assert.Contains("an event-labelled task (\"events\") is multilabel", e.Message);
    }

    [Fact]
    public void PatchMillisecondsAreTheOfficialIntegerStride() =>
        Assert.Equal((160, 80), (SoundEvents.PatchMilliseconds(16), SoundEvents.PatchMilliseconds(8)));
}
