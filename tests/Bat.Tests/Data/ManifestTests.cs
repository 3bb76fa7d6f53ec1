using Bat.Data;

namespace Bat.Tests.Data;

public class ManifestTests
{
    static TaskInfo Task3(TaskKind kind = TaskKind.Multilabel) => new("t", kind, ["dog", "cat", "bird"], 16000, 1.0, "mAP");

    [Fact]
    public void SaveThenLoadRoundTripsEntriesAndSidecar()
    {
        using var dir = new TempDir();
        var csv = dir["m/task.csv"];
        Manifest.Save(csv, Task3(), [
            new ManifestEntry("a/1.wav", ["dog", "bird"], "train", 1),
            new ManifestEntry("a/2.wav", [], "test"),
            new ManifestEntry("b, with comma.wav", ["cat"], "valid", 3),
        ]);
        Assert.True(File.Exists(dir["m/task.json"]));
        Assert.Equal("path,labels,split,fold", File.ReadLines(csv).First());

        var m = Manifest.Load(csv);
        Assert.Equal(Task3().Classes, m.Task.Classes);
        Assert.Equal(TaskKind.Multilabel, m.Task.Kind);
        Assert.Equal(3, m.Entries.Count);
        Assert.Equal(["dog", "bird"], m.Entries[0].Labels);
        Assert.Equal([0, 2], m.LabelIndices(m.Entries[0]));
        Assert.Empty(m.Entries[1].Labels);
        Assert.Equal("b, with comma.wav", m.Entries[2].Path);
        Assert.Equal(3, m.Entries[2].Fold);
        Assert.Equal(0, m.Entries[1].Fold);
        Assert.Equal(Path.Combine(dir["m"], "a/1.wav"), m.Entries[0].FullPath);
        Assert.Equal(2, m.Entries[0].Row);   // line 1 is the header
        Assert.Single(m.Split("train"));
        Assert.Equal(["train", "test", "valid"], m.Splits);

        var other = Manifest.Load(csv, audioRoot: dir["elsewhere"]);
        Assert.Equal(Path.Combine(dir["elsewhere"], "a/1.wav"), other.Entries[0].FullPath);
        Assert.Contains("\"kind\": \"multilabel\"", File.ReadAllText(dir["m/task.json"]));
    }

    [Fact]
    public void UnknownLabelNamesFileAndLine()
    {
        using var dir = new TempDir();
        var csv = dir["task.csv"];
        Manifest.Save(csv, Task3(), [new ManifestEntry("1.wav", ["dog"], "train")]);
        File.AppendAllText(csv, "2.wav,cow,train,0\n");
        var e = Assert.Throws<BatException>(() => Manifest.Load(csv));
        Assert.Contains(csv, e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("'cow'", e.Message);
    }

    [Fact]
    public void MissingColumnMissingSidecarAndBadFoldAreReported()
    {
        using var dir = new TempDir();
        var csv = dir["task.csv"];
        Manifest.Save(csv, Task3(), [new ManifestEntry("1.wav", ["dog"], "train")]);
        File.WriteAllText(csv, "path,labels,fold\n1.wav,dog,0\n");
        Assert.Contains("missing column 'split'", Assert.Throws<BatException>(() => Manifest.Load(csv)).Message);
        File.WriteAllText(csv, "path,labels,split,fold\n1.wav,dog,train,x\n");
        Assert.Contains("line 2: fold 'x'", Assert.Throws<BatException>(() => Manifest.Load(csv)).Message);
        File.Delete(dir["task.json"]);
        Assert.Contains("task.json", Assert.Throws<BatException>(() => Manifest.Load(csv)).Message);
    }

    [Fact]
    public void MulticlassNeedsExactlyOneLabelAndAudioCheckNamesRow()
    {
        using var dir = new TempDir();
        var csv = dir["task.csv"];
        Manifest.Save(csv, Task3(TaskKind.Multiclass), [new ManifestEntry("1.wav", ["dog"], "train"), new ManifestEntry("2.wav", ["cat"], "test")]);
        TestAudio.WritePcm16(dir["1.wav"], TestAudio.Sine(440, 0.1, 16000), 16000);
        var e = Assert.Throws<BatException>(() => Manifest.Load(csv, checkAudio: true));
        Assert.Contains("line 3", e.Message);
        Assert.Contains("2.wav", e.Message);
        File.AppendAllText(csv, "3.wav,dog;cat,train,0\n");
        Assert.Contains("exactly one label", Assert.Throws<BatException>(() => Manifest.Load(csv)).Message);
    }

    [Fact]
    public void SaveRefusesLabelsOutsideTheClassList()
    {
        using var dir = new TempDir();
        Assert.Throws<BatException>(() => Manifest.Save(dir["x.csv"], Task3(), [new ManifestEntry("1.wav", ["cow"], "train")]));
        Assert.False(File.Exists(dir["x.csv"]));
    }

    /// <summary>Two splits and distinct audio files: a manifest that loads, to be broken one way at a time.</summary>
    static string CleanManifest(TempDir dir)
    {
        var csv = dir["task.csv"];
        Manifest.Save(csv, Task3(TaskKind.Multiclass), [new ManifestEntry("1.wav", ["dog"], "train"), new ManifestEntry("2.wav", ["cat"], "test")]);
        foreach (var f in new[] { "1.wav", "2.wav" }) TestAudio.WritePcm16(dir[f], TestAudio.ToneFor(f, 0.1, 16000), 16000);
        Manifest.Load(csv, checkAudio: true);
        return csv;
    }

    [Fact]
    public void DuplicateRowsAndTheSameFileInTwoSplitsAreRefusedNamingBothLines()
    {
        using var dir = new TempDir();
        var csv = CleanManifest(dir);
        var clean = File.ReadAllText(csv);
        File.WriteAllText(csv, clean + "1.wav,dog,train,0\n");
        var e = Assert.Throws<BatException>(() => Manifest.Load(csv));
        Assert.Contains("line 4: '1.wav' is listed twice (also on line 2)", e.Message);

        File.WriteAllText(csv, clean + "./1.wav,dog,test,0\n");   // another spelling of the same file
        e = Assert.Throws<BatException>(() => Manifest.Load(csv));
        Assert.Contains("line 4 (test) and line 2 (train)", e.Message);
        Assert.Contains("--allow-leakage", e.Message);
        Assert.Equal(3, Manifest.Load(csv, allowLeakage: true).Entries.Count);
    }

    [Fact]
    public void TheSameAudioUnderAnotherNameInAnotherSplitIsLeakage()
    {
        using var dir = new TempDir();
        var csv = CleanManifest(dir);
        File.Copy(dir["1.wav"], dir["copy-of-1.wav"]);
        File.AppendAllText(csv, "copy-of-1.wav,dog,test,0\n");
        Manifest.Load(csv);   // by path nothing is wrong; the content check reads the files
        var e = Assert.Throws<BatException>(() => Manifest.Load(csv, checkAudio: true));
        Assert.Contains("line 4 (test) 'copy-of-1.wav' and line 2 (train) '1.wav' have identical content", e.Message);
        Manifest.Load(csv, checkAudio: true, allowLeakage: true);
        // The sidecar can say so for every command that loads the manifest.
        Json.Save(Manifest.SidecarPath(csv), Task3(TaskKind.Multiclass) with { AllowLeakage = true });
        Manifest.Load(csv, checkAudio: true);
    }

    [Fact]
    public void PathsOutsideTheAudioRootAreRefusedUnlessAllowedOrListed()
    {
        using var dir = new TempDir();
        var csv = dir["m/task.csv"];
        Manifest.Save(csv, Task3(), [new ManifestEntry("../audio/1.wav", ["dog"], "train")]);
        var e = Assert.Throws<BatException>(() => Manifest.Load(csv));
        Assert.Contains("line 2: '../audio/1.wav' lies outside the audio root", e.Message);
        File.AppendAllText(csv, "/etc/passwd,dog,test,0\n");
        Manifest.Load(csv, allowOutsideRoot: true);
        Json.Save(Manifest.SidecarPath(csv), Task3() with { AudioRoots = ["../audio"] });
        Assert.Contains("line 3: '/etc/passwd'", Assert.Throws<BatException>(() => Manifest.Load(csv)).Message);
    }

    [Fact]
    public void InvalidUtf8IsAnErrorNamingTheLine()
    {
        using var dir = new TempDir();
        var csv = CleanManifest(dir);
        File.WriteAllBytes(csv, [.. File.ReadAllBytes(csv), .. "3"u8.ToArray(), 0xFF, .. ".wav,dog,train,0\n"u8.ToArray()]);
        var e = Assert.Throws<BatException>(() => Manifest.Load(csv));
        Assert.Contains($"{csv}: line 4: invalid UTF-8 (byte 0xFF)", e.Message);
    }
}
