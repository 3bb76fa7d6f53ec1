using System.CommandLine;
using Bat.Cli.Commands;
using Bat.Data;

namespace Bat.Tests.Data;

public class DataCommandTests
{
    static int Run(params string[] args)
    {
        var root = new RootCommand("bat");
        foreach (var c in CommandCatalog.All()) root.Subcommands.Add(c);
        return root.Parse(args).Invoke();
    }

    [Fact]
    public void SynthCommandWritesLoadableManifests()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Run("data", "synth", "--out", dir.Path, "--clips", "6", "--seed", "4", "--seconds", "0.5"));
        var m = Manifest.Load(dir["synth-multilabel.csv"], checkAudio: true);
        Assert.Equal(6, m.Entries.Count);
        Assert.Equal(0.5, m.Task.ClipSeconds);
        Assert.True(File.Exists(dir["synth-singlelabel.json"]));
        Assert.Equal(0, Run("data", "check", dir["synth-singlelabel.csv"]));
        File.Delete(dir["audio/singlelabel/000002.wav"]);
        Assert.Equal(1, Run("data", "check", dir["synth-singlelabel.csv"]));
    }

    [Fact]
    public void SubsetKeepsTheFirstRowsOfTheNamedSplitsAndEveryRowOfTheOthers()
    {
        using var dir = new TempDir();
        var task = new TaskInfo("pets", TaskKind.Multiclass, ["cat", "dog"]);
        var source = dir["pets.csv"];
        Manifest.Save(source, task, [
            new ManifestEntry("a.wav", ["cat"], "train"), new ManifestEntry("t1.wav", ["dog"], "test"),
            new ManifestEntry("b.wav", ["dog"], "train"), new ManifestEntry("c.wav", ["cat"], "train"),
            new ManifestEntry("v1.wav", ["cat"], "valid"), new ManifestEntry("t2.wav", ["cat"], "test"),
        ]);
        var before = File.ReadAllText(source);
        Assert.Equal(0, Run("data", "subset", source, "--out", dir["pets-wide.csv"], "--take", "train=2"));
        var m = Manifest.Load(dir["pets-wide.csv"]);
        Assert.Equal("pets-wide", m.Task.Name);
        Assert.Equal(new[] { "a.wav", "t1.wav", "b.wav", "v1.wav", "t2.wav" }, m.Entries.Select(e => e.Path));
        Assert.Equal(before, File.ReadAllText(source));
        // Two splits at once; too many rows, a second folder, overwriting the source and a malformed --take are refused.
        Assert.Equal(0, Run("data", "subset", source, "--out", dir["pets-small.csv"], "--take", "train=1", "--take", "test=1"));
        Assert.Equal(new[] { "a.wav", "t1.wav", "v1.wav" }, Manifest.Load(dir["pets-small.csv"]).Entries.Select(e => e.Path));
        Assert.Throws<BatException>(() => ManifestSubset.Write(source, dir["x.csv"], new Dictionary<string, int> { ["train"] = 4 }));
        Directory.CreateDirectory(dir["other"]);
        Assert.Throws<BatException>(() => ManifestSubset.Write(source, dir["other/x.csv"], new Dictionary<string, int> { ["train"] = 1 }));
        Assert.Throws<BatException>(() => ManifestSubset.Write(source, source, new Dictionary<string, int> { ["train"] = 1 }));
        Assert.Equal(1, Run("data", "subset", source, "--out", dir["y.csv"], "--take", "train:2"));
        Assert.False(File.Exists(dir["y.csv"]));
    }

    [Fact]
    public void APerClassBudgetKeepsNRandomClipsOfEveryClassWithItsSeed()
    {
        using var dir = new TempDir();
        var task = new TaskInfo("pets", TaskKind.Multiclass, ["cat", "dog"]);
        var source = dir["pets.csv"];
        // Sorted by class, as a folder layout writes it: the first 4 train rows are all cats.
        var train = Enumerable.Range(0, 6).Select(i => new ManifestEntry($"cat{i}.wav", ["cat"], "train"))
            .Concat(Enumerable.Range(0, 3).Select(i => new ManifestEntry($"dog{i}.wav", ["dog"], "train")));
        Manifest.Save(source, task, [.. train, new ManifestEntry("v.wav", ["dog"], "valid"), new ManifestEntry("t.wav", ["cat"], "test")]);

        Assert.Equal(0, Run("data", "subset", source, "--out", dir["pets-2.csv"], "--take", "train=2", "--per-class", "--seed", "1"));
        var m = Manifest.Load(dir["pets-2.csv"]);
        var kept = m.Split("train");
        Assert.Equal(2, kept.Count(e => e.Labels[0] == "cat"));
        Assert.Equal(2, kept.Count(e => e.Labels[0] == "dog"));
        Assert.Equal(["v.wav"], m.Split("valid").Select(e => e.Path));
        Assert.Equal(["t.wav"], m.Split("test").Select(e => e.Path));
        // Kept rows stay in the source's order; the same seed draws the same rows, and the draws of many seeds differ.
        var order = File.ReadAllLines(source).Select(l => l.Split(',')[0]).ToList();
        Assert.Equal(kept.Select(e => order.IndexOf(e.Path)).Order(), kept.Select(e => order.IndexOf(e.Path)));
        string Draw(int seed) => string.Join(" ", Manifest.Load(ManifestSubset.Write(source, dir[$"pets-s{seed}.csv"],
            new Dictionary<string, int> { ["train"] = 2 }, perClass: true, seed: seed).CsvPath).Split("train").Select(e => e.Path));
        Assert.Equal(string.Join(" ", kept.Select(e => e.Path)), Draw(1));
        Assert.True(Enumerable.Range(2, 8).Select(Draw).Distinct().Count() > 1);

        // Refused: more of a class than it has (naming it), and a multi-label task.
        var error = Assert.Throws<BatException>(() => ManifestSubset.Write(source, dir["x.csv"], new Dictionary<string, int> { ["train"] = 4 }, perClass: true));
        Assert.Contains("class 'dog' has 3 rows in split 'train'", error.Message);
        var tags = dir["tags.csv"];
        Manifest.Save(tags, new TaskInfo("tags", TaskKind.Multilabel, ["a", "b"]), [new ManifestEntry("a.wav", ["a", "b"], "train")]);
        Assert.Contains("needs a single-label task", Assert.Throws<BatException>(() =>
            ManifestSubset.Write(tags, dir["tags-1.csv"], new Dictionary<string, int> { ["train"] = 1 }, perClass: true)).Message);
    }

    [Fact]
    public void ManifestCommandUserErrorsExitWithOne()
    {
        using var dir = new TempDir();
        Assert.Equal(1, Run("data", "manifest", "hear", "--task-dir", dir["missing"]));
        Assert.Equal(1, Run("data", "manifest", "esc50", "--root", dir.Path));
    }
}
