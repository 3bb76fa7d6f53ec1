using Bat.Data.Synth;
using Bat.Model;
using Bat.Probing;
using Bat.Training;

namespace Bat.Tests.Probing;

/// <summary>`bat embed --shard i/n` on several jobs, then `bat embed --merge`, against one process.</summary>
public class ShardedEmbeddingTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("batshard-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    // The smoke preset's encoder shape, narrower so the test stays quick.
    static readonly EncoderConfig Small = Bat.Experiments.Preset.Smoke.Encoder with { Dim = 48, Heads = 2, Depth = 2 };

    [Fact]
    public void MergedShardsAreBitIdenticalToASingleProcess()
    {
        var manifests = SyntheticBenchmark.Ensure(Path.Combine(dir, "synth"), clips: 30, seed: 4, seconds: 1);
        var run = CheckpointSource.Resolve(ProbeExperimentTests.MakeRun(dir, "a", 5, Small));
        string single = Path.Combine(dir, "single"), sharded = Path.Combine(dir, "sharded");
        ProbeExperiment.Embed(run, manifests.MultiLabel, single, batchSize: 4);
        // Three jobs, out of order; a split of fewer batches than shards gives empty shares, which merge too.
        foreach (int i in new[] { 2, 0, 1 })
        {
            var reports = ProbeExperiment.Embed(run, manifests.MultiLabel, sharded, batchSize: 4, shard: (i, 3));
            Assert.All(reports, r => Assert.EndsWith($".shard-{i}-of-3.batemb", r.Path));
        }
        var merged = ProbeExperiment.MergeShards(sharded);
        Assert.NotEmpty(merged);
        foreach (var (split, path, shards, clips) in merged)
        {
            Assert.Equal(3, shards);
            Assert.Equal(File.ReadAllBytes(EmbeddingCache.FileFor(single, split)), File.ReadAllBytes(path));
        }
        Assert.Empty(Directory.GetFiles(sharded, "*.shard-*"));
        // The merged caches are what the probes open.
        using var session = ProbeExperiment.Open(run, manifests.MultiLabel, sharded, embedIfMissing: false);
        Assert.Equal(30, session.Task.Train.Count + session.Task.Validation!.Count + session.Task.Test.Count);
    }

    [Fact]
    public void MissingOrForeignShardsAreRefusedNamingTheFile()
    {
        var manifests = SyntheticBenchmark.Ensure(Path.Combine(dir, "synth"), clips: 16, seed: 6, seconds: 1);
        var run = CheckpointSource.Resolve(ProbeExperimentTests.MakeRun(dir, "a", 7, Small));
        var cache = Path.Combine(dir, "cache");
        ProbeExperiment.Embed(run, manifests.MultiLabel, cache, ["train"], batchSize: 2, shard: (0, 2));
        var error = Assert.Throws<BatException>(() => ProbeExperiment.MergeShards(cache));
        Assert.Contains(EmbeddingCache.ShardFileFor(cache, "train", 0, 2), error.Message);
        Assert.False(File.Exists(EmbeddingCache.FileFor(cache, "train")));

        // The second share with another batch size would not tile the split as one process does.
        ProbeExperiment.Embed(run, manifests.MultiLabel, cache, ["train"], batchSize: 4, shard: (1, 2));
        error = Assert.Throws<BatException>(() => ProbeExperiment.MergeShards(cache));
        Assert.Contains("batch size 4 vs 2", error.Message);

        Assert.Equal((1, 4), EmbeddingShard.Parse("1/4"));
        Assert.Throws<BatException>(() => EmbeddingShard.Parse("4/4"));
    }
}
