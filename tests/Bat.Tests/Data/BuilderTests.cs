using Bat.Data;
using Bat.Data.Builders;
using Bat.Metrics;

namespace Bat.Tests.Data;

/// <summary>Each builder on a tiny dataset in the real on-disk layout, written by the test.</summary>
public class BuilderTests
{
    static float[] Tone(double seconds = 0.05, int rate = 16000) => TestAudio.Sine(440, seconds, rate);

    [Fact]
    public void Esc50WritesBothTasksWithFoldsAndClassOrder()
    {
        using var dir = new TempDir();
        var rows = new[]
        {
            ("1-100032-A-0.wav", 1, 0, "dog", "True"), ("2-100038-A-14.wav", 2, 14, "chirping_birds", "False"),
            ("4-100210-A-1.wav", 4, 1, "rooster", "True"), ("5-100210-B-14.wav", 5, 14, "chirping_birds", "False"),
        };
        File.WriteAllText(dir["esc/meta/esc50.csv"].Also(Directory.CreateDirectory),
            "filename,fold,target,category,esc10,src_file,take\n" + string.Concat(rows.Select(r => $"{r.Item1},{r.Item2},{r.Item3},{r.Item4},{r.Item5},1,A\n")));
        foreach (var r in rows) TestAudio.WritePcm16(dir[$"esc/audio/{r.Item1}"], TestAudio.ToneFor(r.Item1, 0.05, 44100), 44100);

        var result = Esc50Builder.Build(dir["esc"]);
        var m = Manifest.Load(result.Esc50, checkAudio: true);
        Assert.Equal(["dog", "rooster", "chirping_birds"], m.Task.Classes);   // target order
        Assert.Equal(44100, m.Task.SampleRate);
        Assert.Equal([1, 2, 4, 5], m.Entries.Select(e => e.Fold));
        Assert.Equal(["train", "train", "valid", "test"], m.Entries.Select(e => e.Split));
        Assert.Equal("audio/1-100032-A-0.wav", m.Entries[0].Path);
        var esc10 = Manifest.Load(result.Esc10, checkAudio: true);
        Assert.Equal(["dog", "rooster"], esc10.Task.Classes);
        Assert.Equal(2, esc10.Entries.Count);

        // Manifests written elsewhere name the dataset folder as their audio root, so they load as they are.
        var elsewhere = Esc50Builder.Build(dir["esc"], dir["manifests"]);
        var moved = Manifest.Load(elsewhere.Esc50, checkAudio: true);
        Assert.Equal("../esc/audio/1-100032-A-0.wav", moved.Entries[0].Path);
        Assert.Equal(["../esc/audio"], moved.Task.AudioRoots);

        File.Delete(dir["esc/audio/4-100210-A-1.wav"]);
        var e = Assert.Throws<BatException>(() => Esc50Builder.Build(dir["esc"]));
        Assert.Contains("line 4", e.Message);
        Assert.Contains("4-100210-A-1.wav", e.Message);
    }

    [Fact]
    public void Esc50WithoutEsc10RowsFailsAndWritesNeitherManifest()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["esc/meta/esc50.csv"].Also(Directory.CreateDirectory),
            "filename,fold,target,category,esc10,src_file,take\n1-1-A-0.wav,1,0,dog,False,1,A\n5-2-A-1.wav,5,1,cat,False,2,A\n");
        foreach (var f in new[] { "1-1-A-0.wav", "5-2-A-1.wav" }) TestAudio.WritePcm16(dir[$"esc/audio/{f}"], TestAudio.ToneFor(f, 0.05, 44100), 44100);
        var e = Assert.Throws<BatException>(() => Esc50Builder.Build(dir["esc"], dir["out"]));
        Assert.Contains("esc10", e.Message);
        Assert.False(Directory.Exists(dir["out"]) && Directory.EnumerateFileSystemEntries(dir["out"]).Any(), "a failed build left files behind");
    }

    [Fact]
    public void NonUtf8MetadataIsAnErrorNamingTheLineNotAReplacementCharacter()
    {
        using var dir = new TempDir();
        var meta = dir["esc/meta/esc50.csv"].Also(Directory.CreateDirectory);
        File.WriteAllBytes(meta, [.. "filename,fold,target,category,esc10,src_file,take\n1-1-A-0.wav,1,0,caf"u8.ToArray(), 0xE9, .. ",True,1,A\n"u8.ToArray()]);
        TestAudio.WritePcm16(dir["esc/audio/1-1-A-0.wav"], TestAudio.ToneFor("x", 0.05, 44100), 44100);
        var e = Assert.Throws<BatException>(() => Esc50Builder.Build(dir["esc"]));
        Assert.Contains(meta, e.Message);
        Assert.Contains("line 2: invalid UTF-8", e.Message);
        Assert.False(File.Exists(dir["esc/esc50.csv"]));
    }

    [Fact]
    public void SpeechCommandsSplitsByListsAndCutsSilenceDeterministically()
    {
        using var dir = new TempDir();
        var root = dir["sc"];
        foreach (var f in new[] { "yes/a_nohash_0.wav", "yes/b_nohash_0.wav", "go/a_nohash_1.wav", "house/c_nohash_0.wav", "bed/d_nohash_0.wav" })
            TestAudio.WritePcm16(Path.Combine(root, f), TestAudio.ToneFor(f, 0.05, 16000), 16000);
        File.WriteAllText(Path.Combine(root, "validation_list.txt"), "yes/b_nohash_0.wav\n");
        File.WriteAllText(Path.Combine(root, "testing_list.txt"), "house/c_nohash_0.wav\n");
        // 2.5 s of noise -> two whole 1 s chunks.
        var noise = Enumerable.Range(0, 40000).Select(i => (float)(0.1 * Math.Sin(i * 0.37))).ToArray();
        TestAudio.WritePcm16(Path.Combine(root, "_background_noise_/hum.wav"), noise, 16000);

        var r = SpeechCommandsBuilder.Build(root);
        var m = Manifest.Load(r.Manifest, checkAudio: true);
        Assert.Equal(12, m.Task.Classes.Count);
        Assert.Equal(["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "_silence_", "_unknown_"], m.Task.Classes);
        Assert.Equal(2, r.SilenceChunks);
        var byPath = m.Entries.ToDictionary(e => e.Path);
        Assert.Equal("_unknown_", byPath["house/c_nohash_0.wav"].Labels[0]);
        Assert.Equal("test", byPath["house/c_nohash_0.wav"].Split);
        Assert.Equal("valid", byPath["yes/b_nohash_0.wav"].Split);
        Assert.Equal("train", byPath["yes/a_nohash_0.wav"].Split);
        Assert.Equal("_unknown_", byPath["bed/d_nohash_0.wav"].Labels[0]);
        Assert.Equal("test", byPath["_silence_/hum_0000.wav"].Split);
        Assert.Equal("valid", byPath["_silence_/hum_0001.wav"].Split);
        // The second chunk holds samples 16000..31999 of the noise (16-bit quantised).
        var chunk = TestAudio.Read(byPath["_silence_/hum_0001.wav"].FullPath);
        Assert.Equal(16000, chunk.Samples.Length);
        Assert.Equal(16000, chunk.SampleRate);
        for (int k = 0; k < 16000; k += 101) Assert.Equal(noise[16000 + k], chunk.Samples[k], 1e-4);
        // Rebuilding gives the same manifest.
        var first = File.ReadAllText(r.Manifest);
        SpeechCommandsBuilder.Build(root);
        Assert.Equal(first, File.ReadAllText(r.Manifest));
    }

    [Fact]
    public void AudioSetParsesSegmentListsAndReportsMissingAudio()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["labels.csv"], "index,mid,display_name\n0,/m/09x0r,\"Speech\"\n1,/m/05zppz,\"Male speech, man speaking\"\n2,/m/04rlf,\"Music\"\n");
        File.WriteAllText(dir["eval_segments.csv"],
            "# Segments csv created Sun Mar  5 10:54:25 2017\n# num_ytids=3, num_segs=3, num_unique_labels=3, num_positive_labels=4\n" +
            "# YTID, start_seconds, end_seconds, positive_labels\n" +
            "--4gqARaEJE, 0.000, 10.000, \"/m/09x0r,/m/05zppz\"\n" +
            "--BfvyPmVMo, 20.000, 30.000, \"/m/04rlf\"\n" +
            "-0DLPzsiXXE, 30.000, 40.000, \"/m/04rlf\"\n");
        TestAudio.WritePcm16(dir["wav/--4gqARaEJE_0.000.wav"], Tone(), 16000);
        TestAudio.WritePcm16(dir["wav/-0DLPzsiXXE_30.000.wav"], Tone(), 16000);

        var r = AudioSetBuilder.Build([new AudioSetBuilder.Source(dir["eval_segments.csv"], AudioSetBuilder.DefaultSplit("eval_segments.csv"))],
            dir["labels.csv"], "{root}/wav/{ytid}_{start}.wav", dir["out/as.csv"]);
        Assert.Equal(2, r.Found);
        Assert.Equal(1, r.Missing);
        var m = Manifest.Load(r.Manifest, checkAudio: true);
        Assert.Equal(["Speech", "Male speech, man speaking", "Music"], m.Task.Classes);
        Assert.Equal(TaskKind.Multilabel, m.Task.Kind);
        Assert.Equal(["Speech", "Male speech, man speaking"], m.Entries[0].Labels);
        Assert.Equal("test", m.Entries[0].Split);
        Assert.Equal("../wav/--4gqARaEJE_0.000.wav", m.Entries[0].Path);
        var report = File.ReadAllLines(r.MissingReport!);
        Assert.Equal(2, report.Length);
        Assert.StartsWith("--BfvyPmVMo,20.000,30.000,test,", report[1]);

        File.AppendAllText(dir["eval_segments.csv"], "xyz, 0.000, 10.000, \"/m/nope\"\n");
        var e = Assert.Throws<BatException>(() => AudioSetBuilder.Build([new AudioSetBuilder.Source(dir["eval_segments.csv"], "test")],
            dir["labels.csv"], "{root}/wav/{ytid}_{start}.wav", dir["out/as.csv"]));
        Assert.Contains("line 7", e.Message);
        Assert.Contains("/m/nope", e.Message);
    }

    [Fact]
    public void ShippedAudioSetAndEsc50ClassListsAreComplete()
    {
        var repo = FindRepoFile("data-manifests/audioset_class_labels_indices.csv");
        var (mids, classes) = AudioSetBuilder.ReadLabels(repo);
        Assert.Equal(527, classes.Count);
        Assert.Equal("Speech", classes[0]);
        Assert.Equal("Field recording", classes[526]);
        Assert.Equal("Male speech, man speaking", mids["/m/05zppz"]);
        var esc = File.ReadAllLines(FindRepoFile("data-manifests/esc50_classes.csv")).Skip(1).ToList();
        Assert.Equal(50, esc.Count);
        Assert.Equal(10, esc.Count(l => l.EndsWith(",True")));
    }

    [Fact]
    public void HearSceneTaskBuilds()
    {
        using var dir = new TempDir();
        var task = dir["hear/beijing"];
        Directory.CreateDirectory(task);
        File.WriteAllText(Path.Combine(task, "task_metadata.json"),
            """{"task_name": "beijing", "embedding_type": "scene", "prediction_type": "multiclass", "sample_duration": 4.0, "evaluation": ["top1_acc"]}""");
        File.WriteAllText(Path.Combine(task, "labelvocabulary.csv"), "idx,label\n0,dizi\n1,erhu\n");
        File.WriteAllText(Path.Combine(task, "fold00.json"), """{"a.wav": ["erhu"], "b.wav": ["dizi"]}""");
        File.WriteAllText(Path.Combine(task, "fold01.json"), """{"c.wav": ["dizi"]}""");
        TestAudio.WritePcm16(Path.Combine(task, "48000/fold00/a.wav"), Tone(0.05, 48000), 48000);
        foreach (var f in new[] { "16000/fold00/a.wav", "16000/fold00/b.wav", "16000/fold01/c.wav" })
            TestAudio.WritePcm16(Path.Combine(task, f), TestAudio.ToneFor(f, 0.05, 16000), 16000);

        var r = HearBuilder.Build(task);
        var m = Manifest.Load(r.Manifest, checkAudio: true);
        Assert.Equal(16000, r.SampleRate);
        Assert.Equal(["dizi", "erhu"], m.Task.Classes);
        Assert.Equal("accuracy", m.Task.Metric);
        Assert.Equal(4.0, m.Task.ClipSeconds);
        Assert.Equal(["fold00", "fold00", "fold01"], m.Entries.Select(e => e.Split));
        Assert.Equal([1, 1, 2], m.Entries.Select(e => e.Fold));
        Assert.Equal("16000/fold00/a.wav", m.Entries[0].Path);

    }

    /// <summary>A HEAR event task folder as dcase2016_task2-hear2021 lays it out (events in ms), two clips per split.</summary>
    static string HearEventTask(TempDir dir, string testJson = """{"e.wav": [{"label": "door", "start": 250.5, "end": 1000.0}]}""")
    {
        var task = dir["hear/dcase"];
        Directory.CreateDirectory(task);
        File.WriteAllText(Path.Combine(task, "task_metadata.json"),
            """{"task_name": "dcase2016_task2", "embedding_type": "event", "prediction_type": "multilabel", "sample_duration": 2.0, "evaluation": ["event_onset_200ms_fms", "segment_1s_er"]}""");
        File.WriteAllText(Path.Combine(task, "labelvocabulary.csv"), "idx,label\n0,speech\n1,door\n");
        File.WriteAllText(Path.Combine(task, "train.json"),
            """{"a.wav": [{"label": "speech", "start": 0.0, "end": 480.0}, {"label": "door", "start": 320.0, "end": 640.0}], "b.wav": []}""");
        File.WriteAllText(Path.Combine(task, "test.json"), testJson);
        foreach (var f in new[] { "16000/train/a.wav", "16000/train/b.wav", "16000/test/e.wav" })
            TestAudio.WritePcm16(Path.Combine(task, f), TestAudio.ToneFor(f, 0.05, 16000), 16000);
        return task;
    }

    [Fact]
    public void HearEventTaskBuildsAnEventLabelledManifestWithItsEventsInSeconds()
    {
        using var dir = new TempDir();
        var r = HearBuilder.Build(HearEventTask(dir));
        var m = Manifest.Load(r.Manifest, checkAudio: true);
        Assert.Equal("hear-dcase2016_task2", m.Task.Name);
        Assert.True(m.Task.HasEvents);
        Assert.Equal(TaskKind.Multilabel, m.Task.Kind);
        Assert.Equal("event_onset_200ms_fms", m.Task.Metric);
        Assert.Equal("hear-dcase2016_task2-events.csv", m.Task.Events);
        // The rows list the classes present, in class-list order; a clip without events has none.
        Assert.Equal(["speech", "door"], m.Entries.Single(e => e.Path.EndsWith("a.wav")).Labels);
        Assert.Empty(m.Entries.Single(e => e.Path.EndsWith("b.wav")).Labels);
        var a = m.EventsOf(m.Entries.Single(e => e.Path.EndsWith("a.wav")));
        Assert.Equal([new SoundEvent("speech", 0, 0.48), new SoundEvent("door", 0.32, 0.64)], a);
        Assert.Equal([new SoundEvent("door", 250.5 / 1000, 1000.0 / 1000)], m.EventsOf(m.Entries.Single(e => e.Split == "test")));   // start / 1000, exactly
        Assert.Empty(m.EventsOf(m.Entries.Single(e => e.Path.EndsWith("b.wav"))));

        // Frame targets at 160 ms patches: patch t is on when t * 160 ms lies in [onset, offset], ends included.
        using var targets = m.FrameTargetMatrix(m.Split("train"), timePatches: 6, patchMs: 160);
        Assert.Equal(new long[] { 2, 6, 2 }, targets.shape);
        var values = targets.data<float>().ToArray();
        Assert.Equal(new float[] { 1, 1, 1, 1, 0, 0 }, Enumerable.Range(0, 6).Select(t => values[t * 2]));        // speech 0..480: 0, 160, 320, 480
        Assert.Equal(new float[] { 0, 0, 1, 1, 1, 0 }, Enumerable.Range(0, 6).Select(t => values[t * 2 + 1]));    // door 320..640
        Assert.All(values.Skip(12), v => Assert.Equal(0, v));
    }

    [Theory]
    [InlineData("""{"e.wav": {"label": "door"}}""", "'e.wav': expected a list of events")]
    [InlineData("""{"e.wav": ["door"]}""", "'e.wav': event 1 is not")]
    [InlineData("""{"e.wav": [{"label": "door", "start": 900, "end": 100}]}""", "event 1 (door) has start 900 ms and end 100 ms")]
    [InlineData("""{"e.wav": [{"label": "door", "start": "0"}]}""", "event 1 is not")]
    [InlineData("""{"e.wav": [{"label": "cat", "start": 0, "end": 100}]}""", "unknown label 'cat'")]
    [InlineData("""[1, 2]""", "expected an object")]
    public void HearEventTaskWithMalformedEventsIsOneErrorNamingTheFile(string testJson, string problem)
    {
        using var dir = new TempDir();
        var task = HearEventTask(dir, testJson);
        var e = Assert.Throws<BatException>(() => HearBuilder.Build(task));
        Assert.StartsWith(Path.Combine(task, "test.json") + ":", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.False(File.Exists(Path.Combine(task, "hear-dcase2016_task2.csv")));   // nothing half-written
    }

    static string FindRepoFile(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, relative))) return Path.Combine(d.FullName, relative);
        throw new FileNotFoundException(relative);
    }
}

internal static class PathExtensions
{
    /// <summary>Runs an action on the folder of a path (e.g. create it) and returns the path.</summary>
    public static string Also(this string path, Func<string, DirectoryInfo> onFolder) { onFolder(Path.GetDirectoryName(path)!); return path; }
}
