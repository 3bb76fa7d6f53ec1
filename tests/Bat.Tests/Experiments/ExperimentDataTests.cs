using Bat.Data;
using Bat.Experiments;
using Bat.Tests.Data;

namespace Bat.Tests.Experiments;

/// <summary>How `--data` / the notebooks' Data parameter picks the pre-training set and the probing tasks.</summary>
public class ExperimentDataTests
{
    static readonly TaskInfo Words = new("words", TaskKind.Multiclass, ["yes", "no"], 16000, 1.0, "accuracy");

    /// <summary>A manifest with one short WAV per row (written unless <paramref name="writeAudio"/> is false).</summary>
    static string WriteManifest(string folder, string name, string[] splits, bool writeAudio = true)
    {
        var entries = splits.Select((split, i) => new ManifestEntry($"audio/{name}-{i}.wav", [i % 2 == 0 ? "yes" : "no"], split)).ToList();
        if (writeAudio)
            foreach (var e in entries) TestAudio.WritePcm16(Path.Combine(folder, e.Path), TestAudio.ToneFor(e.Path, 0.1, 16000), 16000);
        var csv = Path.Combine(folder, name + ".csv");
        Manifest.Save(csv, Words, entries);
        return csv;
    }

    [Fact]
    public void Tasks_come_in_name_order_and_pretrain_csv_is_the_pretraining_set()
    {
        using var dir = new TempDir();
        var esc = WriteManifest(dir.Path, "b-esc50", ["train", "valid", "test"]);
        var audioset = WriteManifest(dir.Path, "a-as20k", ["train", "test"]);
        var pretrain = WriteManifest(dir.Path, "pretrain", ["train", "train"]);
        File.WriteAllText(dir["a-as20k-missing.csv"], "ytid,start_seconds\nabc,0\n"); // a report without sidecar: not a manifest

        var data = ExperimentData.FromFolder(dir.Path);
        Assert.Equal(Path.GetFullPath(dir.Path), data.Source);
        Assert.Equal(pretrain, data.PretrainManifest);
        Assert.Equal([audioset, esc], data.ProbeManifests);
        Assert.Equal(audioset, data.PrimaryTask);
        Assert.Contains(data.Describe(), l => l.StartsWith("task 1 (primary", StringComparison.Ordinal) && l.EndsWith("a-as20k.csv", StringComparison.Ordinal));
    }

    [Fact]
    public void Manifests_one_level_down_count_in_order_of_their_relative_path()
    {
        // The layout data-manifests/build-offline-benchmark.sh leaves: OUT/instruments/instruments.csv, OUT/keywords/...
        using var dir = new TempDir();
        var keywords = WriteManifest(dir["keywords"], "speechcommands12", ["train", "test"]);
        var instruments = WriteManifest(dir["instruments"], "instruments", ["train", "test"]);
        WriteManifest(dir["instruments/deeper"], "too-deep", ["train", "test"]);

        var data = ExperimentData.FromFolder(dir.Path);
        Assert.Equal([instruments, keywords], data.ProbeManifests);
    }

    [Fact]
    public void A_folder_is_checked_once_until_a_manifest_changes()
    {
        using var dir = new TempDir();
        var csv = WriteManifest(dir.Path, "speechcommands", ["train", "test"]);
        var first = ExperimentData.FromFolder(dir.Path);
        Assert.Same(first, ExperimentData.FromFolder(dir.Path));   // bat reproduce, then notebooks 02-04: one check
        File.Delete(Path.Combine(dir.Path, "audio", "speechcommands-1.wav"));
        File.SetLastWriteTimeUtc(csv, File.GetLastWriteTimeUtc(csv).AddSeconds(1));   // the manifest changed: checked again
        var e = Assert.Throws<BatException>(() => ExperimentData.FromFolder(dir.Path));
        Assert.Contains("speechcommands-1.wav", e.Message);
    }

    [Fact]
    public void Without_pretrain_csv_the_primary_task_is_pretrained_on()
    {
        using var dir = new TempDir();
        var only = WriteManifest(dir.Path, "speechcommands", ["train", "test"]);
        var data = ExperimentData.FromFolder(dir.Path);
        Assert.Equal(only, data.PretrainManifest);
        Assert.Equal([only], data.ProbeManifests);
    }

    [Fact]
    public void Synth_is_the_embedded_benchmark_under_the_output_folder()
    {
        using var dir = new TempDir();
        var data = ExperimentData.Resolve("synth", dir.Path, Preset.Smoke);
        var expected = Path.Combine(Path.GetFullPath(dir.Path), "data", "synth", "synth-multilabel.csv");
        Assert.Equal(ExperimentData.Synth, data.Source);
        Assert.Equal(expected, data.PretrainManifest);
        Assert.Equal([expected], data.ProbeManifests);
        Assert.True(File.Exists(expected));
    }

    [Fact]
    public void A_missing_folder_is_named()
    {
        var missing = Path.Combine(Path.GetTempPath(), "bat-no-such-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<BatException>(() => ExperimentData.Resolve(missing, Path.GetTempPath(), Preset.Smoke));
        Assert.Contains(missing, e.Message);
        Assert.Contains("no such folder", e.Message);
    }

    [Fact]
    public void A_folder_with_only_a_pretraining_set_has_no_task_to_probe()
    {
        using var dir = new TempDir();
        WriteManifest(dir.Path, "pretrain", ["train"]);
        var e = Assert.Throws<BatException>(() => ExperimentData.FromFolder(dir.Path));
        Assert.Contains("no probing task", e.Message);
    }

    [Fact]
    public void A_task_without_a_test_split_is_refused_naming_the_manifest()
    {
        using var dir = new TempDir();
        var csv = WriteManifest(dir.Path, "esc50", ["train", "valid"]);
        var e = Assert.Throws<BatException>(() => ExperimentData.FromFolder(dir.Path));
        Assert.Contains(csv, e.Message);
        Assert.Contains("missing 'test'", e.Message);
    }

    [Fact]
    public void A_missing_audio_file_is_found_before_any_work()
    {
        using var dir = new TempDir();
        var csv = WriteManifest(dir.Path, "esc50", ["train", "test"], writeAudio: false);
        var e = Assert.Throws<BatException>(() => ExperimentData.FromFolder(dir.Path));
        Assert.Contains(csv, e.Message);
        Assert.Contains("audio file not found", e.Message);
    }
}
