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
    public void ManifestCommandUserErrorsExitWithOne()
    {
        using var dir = new TempDir();
        Assert.Equal(1, Run("data", "manifest", "hear", "--task-dir", dir["missing"]));
        Assert.Equal(1, Run("data", "manifest", "esc50", "--root", dir.Path));
    }
}
