using Bat.Data.Synth;
using Bat.Model;
using Bat.Pretraining;
using Bat.Probing;
using Bat.Training;
using static TorchSharp.torch;

namespace Bat.Tests.Probing;

/// <summary>
/// Embed -> cache -> probe end to end on a small synthetic benchmark and a randomly initialised encoder saved as
/// a pre-training run (the pipeline, not the weights, is under test).
/// </summary>
public class ProbeExperimentTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("batprobe-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    static readonly EncoderConfig Small = EncoderConfig.Tiny with { Dim = 48, Heads = 2, Depth = 2 };

    /// <summary>A run folder with config.json and one checkpoint of a random encoder (seeded).</summary>
    internal static string MakeRun(string root, string name, int seed, EncoderConfig encoder)
    {
        var runDir = Path.Combine(root, name);
        manual_seed(seed);
        using var model = new Encoder(encoder);
        Json.Save(Checkpoint.ConfigPath(runDir), new PretrainConfig { Encoder = encoder, Variant = name });
        Checkpoint.Save(runDir, 1, seed, model.state_dict().Select(kv => ("student." + kv.Key, kv.Value)));
        return runDir;
    }

    [Fact]
    public void EmbedsOnceReusesTheCacheAndRefusesAnotherCheckpoints()
    {
        var manifests = SyntheticBenchmark.Ensure(Path.Combine(dir, "synth"), clips: 40, seed: 1, seconds: 1);
        var runA = CheckpointSource.Resolve(MakeRun(dir, "a", 1, Small));
        var runB = CheckpointSource.Resolve(MakeRun(dir, "b", 2, Small));
        var cache = Path.Combine(dir, "cache");

        var first = ProbeExperiment.Embed(runA, manifests.MultiLabel, cache, batchSize: 8);
        Assert.All(first, r => Assert.False(r.Reused));
        Assert.Equal(40, first.Sum(r => r.Clips));
        // 1 s clips: 7 time patches x 4 mel patches (the task's own length), not the encoder's 5.12 s.
        Assert.Equal(Small.Depth * (1 + 7 * Small.GridFreq) * Small.Dim * 2, first[0].BytesPerClip);
        Assert.All(ProbeExperiment.Embed(runA, manifests.MultiLabel, cache), r => Assert.True(r.Reused));

        using (var session = ProbeExperiment.Open(runA, manifests.MultiLabel, cache, embedIfMissing: false))
        {
            Assert.True(session.Task.MultiLabel);
            Assert.Equal(40, session.Task.Train.Count + session.Task.Validation!.Count + session.Task.Test.Count);
            // The cached rows are what the encoder gives for those clips.
            var features = session.Task.Test.Embeddings.Gather([0], withPatches: true, CPU);
            Assert.Equal(new long[] { 1, Small.Depth, 7 * Small.GridFreq, Small.Dim }, features.Patches.shape);
            var result = ProbeExperiment.Run(session.Task, "cgp", 8, ProbeTrainingConfig.Smoke.WithSteps(10) with { BatchSize = 8 });
            Assert.Equal(Small.Depth, result.GateWeights!.Length);
            Assert.InRange(result.Test["map"], 0, 100);
        }

        var error = Assert.Throws<BatException>(() => ProbeExperiment.Open(runB, manifests.MultiLabel, cache, embedIfMissing: false));
        Assert.Contains(EmbeddingCache.FileFor(cache, "train"), error.Message);
        Assert.Contains("checkpoint SHA-256", error.Message);
        // `bat embed` refuses to overwrite it too, unless forced.
        Assert.Contains("checkpoint SHA-256", Assert.Throws<BatException>(() => ProbeExperiment.Embed(runB, manifests.MultiLabel, cache, ["test"])).Message);
        Assert.All(ProbeExperiment.Embed(runB, manifests.MultiLabel, cache, ["test"], force: true), r => Assert.False(r.Reused));
    }

    [Fact]
    public void ARememberedProbeRunIsReadBackOnlyForTheSameRunAndAnUnreadableMemoIsTrainedAgain()
    {
        var manifests = SyntheticBenchmark.Ensure(Path.Combine(dir, "synth"), clips: 40, seed: 1, seconds: 1);
        var runA = CheckpointSource.Resolve(MakeRun(dir, "a", 1, Small));
        var runB = CheckpointSource.Resolve(MakeRun(dir, "b", 2, Small));
        var config = ProbeTrainingConfig.Smoke.WithSteps(10) with { BatchSize = 8 };
        using var session = ProbeExperiment.Open(runA, manifests.MultiLabel, Path.Combine(dir, "cache-a"), batchSize: 8);

        var first = ProbeExperiment.Run(session, "cgp", 8, config);
        var memo = ProbeRunMemo.PathFor(session, session.Task, "cgp", 8, config);
        Assert.True(File.Exists(memo));
        // The same run again is read back, not trained: a trainer that throws is never called.
        var again = ProbeRunMemo.GetOrRun(session, session.Task, "cgp", 8, config, () => throw new InvalidOperationException("trained again"));
        Assert.Equal(first.Test, again.Test);
        Assert.Equal(first.GateWeights, again.GateWeights);
        Assert.Equal(first.LossCurve, again.LossCurve);
        Assert.Equal(first.Parameters, again.Parameters);
        // ... and equals what training it afresh gives (the run is seeded: the memo changes nothing but the time).
        Assert.Equal(first.Test, ProbeExperiment.Run(session.Task, "cgp", 8, config).Test);

        // Another K, schedule, seed or checkpoint is another run.
        Assert.NotEqual(memo, ProbeRunMemo.PathFor(session, session.Task, "cgp", 4, config));
        Assert.NotEqual(memo, ProbeRunMemo.PathFor(session, session.Task, "cgp", 8, config with { Steps = 11 }));
        Assert.NotEqual(memo, ProbeRunMemo.PathFor(session, session.Task, "cgp", 8, config with { Seed = 1 }));
        using (var other = ProbeExperiment.Open(runB, manifests.MultiLabel, Path.Combine(dir, "cache-b"), batchSize: 8))
            Assert.NotEqual(Path.GetFileName(memo), Path.GetFileName(ProbeRunMemo.PathFor(other, other.Task, "cgp", 8, config)));

        // A torn memo is not trusted: the probe is trained again and the file replaced.
        File.WriteAllText(memo, "{\"probe\": \"cgp\", \"heads\": [");
        var trained = 0;
        var retrained = ProbeRunMemo.GetOrRun(session, session.Task, "cgp", 8, config, () => { trained++; return first; });
        Assert.Equal(1, trained);
        Assert.Equal(first.Test, retrained.Test);
        Assert.Equal(first.Test, ProbeRunMemo.GetOrRun(session, session.Task, "cgp", 8, config, () => throw new InvalidOperationException("trained again")).Test);
    }

    /// <summary>A pre-training checkpoint whose student and teacher are two different random encoders (seeds 1 and 2).</summary>
    static string MakeRunWithTeacher(string root, EncoderConfig encoder)
    {
        var runDir = Path.Combine(root, "pretrained");
        manual_seed(1);
        using var student = new Encoder(encoder);
        manual_seed(2);
        using var teacher = new Encoder(encoder);
        Json.Save(Checkpoint.ConfigPath(runDir), new PretrainConfig { Encoder = encoder, Variant = "pretrained" });
        Checkpoint.Save(runDir, 5, 0, student.state_dict().Select(kv => ("student." + kv.Key, kv.Value))
            .Concat(teacher.state_dict().Select(kv => ("teacher." + kv.Key, kv.Value))));
        return runDir;
    }

    [Fact]
    public void TheTeacherIsReadIntoItsOwnCacheAndEmbedsAsTheSameWeightsSavedAsAStudentDo()
    {
        var manifests = SyntheticBenchmark.Ensure(Path.Combine(dir, "synth"), clips: 20, seed: 2, seconds: 1);
        var run = MakeRunWithTeacher(dir, Small);
        var teacher = CheckpointSource.Resolve(run, EncoderWeights.Teacher);
        var student = CheckpointSource.Resolve(run);
        // The same encoder B saved as the student of another run: what the teacher must embed as.
        var alone = CheckpointSource.Resolve(MakeRun(dir, "b", 2, Small));

        using (var loaded = teacher.LoadEncoder())
        using (var reference = alone.LoadEncoder())
        using (var first = student.LoadEncoder())
        {
            foreach (var (name, value) in loaded.state_dict())
                Assert.True(value.allclose(reference.state_dict()[name], rtol: 0, atol: 0), name);
            // The student is the other encoder (its randomly drawn tensors differ; LayerNorm's ones do not).
            Assert.False(loaded.state_dict()["patch_embed.weight"].allclose(first.state_dict()["patch_embed.weight"], rtol: 0, atol: 0));
        }

        string teacherCache = Path.Combine(dir, "cache-teacher"), aloneCache = Path.Combine(dir, "cache-b");
        using (var a = ProbeExperiment.Open(teacher, manifests.MultiLabel, teacherCache, batchSize: 4))
        using (var b = ProbeExperiment.Open(alone, manifests.MultiLabel, aloneCache, batchSize: 4))
        {
            var x = a.Task.Test.Embeddings.Gather([0, 1, 2], withPatches: true, CPU);
            var y = b.Task.Test.Embeddings.Gather([0, 1, 2], withPatches: true, CPU);
            Assert.True(x.Cls.allclose(y.Cls, rtol: 0, atol: 0));
            Assert.True(x.Patches.allclose(y.Patches, rtol: 0, atol: 0));
        }

        // The student of the same file is another cache: refused in the teacher's folder, naming what differs.
        var error = Assert.Throws<BatException>(() => ProbeExperiment.Embed(student, manifests.MultiLabel, teacherCache, ["test"]));
        Assert.Contains("encoder weights: cached teacher, expected student", error.Message);
        var layout = new Bat.Experiments.OutputLayout(dir);
        Assert.Equal(layout.Embeddings("pretrained", manifests.MultiLabel, student) + "-teacher", layout.Embeddings("pretrained", manifests.MultiLabel, teacher));

        // A run without a teacher (what `bat import` writes) is refused naming the file, not read as something else.
        var studentOnly = CheckpointSource.Resolve(MakeRun(dir, "imported", 3, Small), EncoderWeights.Teacher);
        var missing = Assert.Throws<BatException>(() => studentOnly.LoadEncoder());
        Assert.Contains(studentOnly.CheckpointPath, missing.Message);
        Assert.Contains("holds no EMA teacher", missing.Message);
    }

    [Fact]
    public void CachedFeaturesEqualAFreshEncoderPass()
    {
        var manifests = SyntheticBenchmark.Ensure(Path.Combine(dir, "synth"), clips: 20, seed: 2, seconds: 1);
        var source = CheckpointSource.Resolve(MakeRun(dir, "a", 3, Small));
        var cache = Path.Combine(dir, "cache");
        ProbeExperiment.Embed(source, manifests.MultiLabel, cache, ["test"], batchSize: 4);
        using var session = ProbeExperiment.Open(source, manifests.MultiLabel, cache);
        using var encoder = source.LoadEncoder();
        var loader = new Bat.Data.FeatureLoader(session.Manifest, "test", session.Input.Featurizer(), Bat.Data.LoaderOptions.Eval(2, session.Input.Frames));
        using var batch = loader.MakeBatch([1]);
        using var _ = no_grad();
        using var output = encoder.Forward(batch.Features);
        var fresh = LayerEmbeddings.FromBlockOutputs(output.Layers);
        var cached = session.Task.Test.Embeddings.Gather([1], withPatches: true, CPU);
        // float16 storage: relative error below 1e-3 of the token scale (post-norm tokens are O(1)).
        Assert.True((cached.Cls - fresh.Cls).abs().max().item<float>() < 1e-2);
        Assert.True((cached.Patches - fresh.Patches).abs().max().item<float>() < 1e-2);
    }
}
