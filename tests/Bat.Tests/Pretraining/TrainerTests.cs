using Bat.Experiments;
using Bat.Model;
using Bat.Pretraining;
using Bat.Training;
using static TorchSharp.torch;

namespace Bat.Tests.Pretraining;

public class TrainerTests
{
    // A very small model and grid (8 x 4 patches) so each step takes milliseconds.
    static PretrainConfig Mini(DecoderKind decoder = DecoderKind.Cnn, TeacherTargetKind targets = TeacherTargetKind.Ffn, int steps = 6) => new()
    {
        Encoder = EncoderConfig.Tiny with { Frames = 128, Dim = 64, Depth = 2, Heads = 2 },
        Decoder = (decoder == DecoderKind.Vit ? Preset.Tiny.VitDecoder with { Dim = 32 } : new DecoderConfig { Kind = DecoderKind.Cnn }) with { Depth = 2 },
        Targets = targets, Steps = steps, Batch = 2, Clones = 3, WarmupSteps = 2, Seed = 11,
        EmaStart = 0.9, EmaEnd = 0.99, EmaAnnealSteps = 4, LogEvery = 1,
        UtteranceWeighting = decoder == DecoderKind.Vit ? UtteranceWeighting.Equal : UtteranceWeighting.Fairseq,
    };

    static IClipSource Clips()
    {
        manual_seed(123);
        return new TensorClipSource(randn(5, 1, 128, 64));
    }

    static string TempRun() => Path.Combine(Path.GetTempPath(), "bat-model-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void XavierInitDrawsEveryLinearOfStudentAndDecoderFromItsUniformAndTheTeacherCopiesIt()
    {
        // xavier_uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)), so std a / sqrt(3); bert: N(0, 0.02). Biases 0.
        using var xavier = new BootstrapTrainer(Mini(DecoderKind.Vit) with { Init = LinearInit.Xavier }, CPU);
        using var bert = new BootstrapTrainer(Mini(DecoderKind.Vit), CPU);
        foreach (var module in new TorchSharp.torch.nn.Module[] { xavier.Student, xavier.Decoder })
            foreach (var (name, m) in module.named_modules())
                if (m is TorchSharp.Modules.Linear linear)
                {
                    double a = Math.Sqrt(6.0 / (linear.weight!.shape[0] + linear.weight.shape[1]));
                    Assert.True(linear.weight.abs().max().item<float>() <= a, $"{name}: outside the xavier bound {a}");
                    Assert.InRange(linear.weight.std().item<float>(), 0.9 * a / Math.Sqrt(3), 1.1 * a / Math.Sqrt(3));
                    if (linear.bias is not null) Assert.Equal(0f, linear.bias.abs().max().item<float>());
                }
        var fc = bert.Student.named_modules().Select(m => m.module).OfType<TorchSharp.Modules.Linear>().First();
        Assert.InRange(fc.weight!.std().item<float>(), 0.018, 0.022);
        var teacher = xavier.Teacher.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, t) in xavier.Student.named_parameters())
            Assert.True(t.eq(teacher[name]).all().item<bool>(), $"teacher {name} is not the student's start");
    }

    [Fact]
    public void NoGradientReachesTheTeacherAndItMovesOnlyByEma()
    {
        using var trainer = new BootstrapTrainer(Mini(), CPU);
        var before = trainer.Teacher.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var r = trainer.TrainStep(Clips());
        Assert.True(double.IsFinite(r.Loss) && r.Loss > 0);
        Assert.Equal(0.9, r.EmaDecay, 12);
        var student = trainer.Student.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, t) in trainer.Teacher.named_parameters())
        {
            Assert.False(t.requires_grad);
            Assert.Null(t.grad);
            using var expected = before[name].mul(0.9).add(student[name].detach().mul(0.1));
            Assert.True(t.allclose(expected, rtol: 1e-5, atol: 1e-6), name);
        }
        // The student did get gradients and moved away from the teacher's starting point.
        Assert.Contains(trainer.Student.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void PixelTargetsLeaveTheTeacherAtItsInitialWeights()
    {
        using var trainer = new BootstrapTrainer(Mini(DecoderKind.Vit, TeacherTargetKind.Pixels), CPU);
        var before = trainer.Teacher.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var r = trainer.TrainStep(Clips());
        Assert.True(double.IsFinite(r.Loss) && r.Loss > 0);
        Assert.Equal(1.0, r.EmaDecay);
        var student = trainer.Student.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, t) in trainer.Teacher.named_parameters())
            Assert.True(t.eq(before[name]).all().item<bool>(), name);
        // The student did move, so an EMA step would have changed the teacher.
        Assert.Contains(student, p => !p.Value.detach().eq(before[p.Key]).all().item<bool>());
    }

    /// <summary>One first update of the papers' config (ViT decoder, end-of-block targets, equal weighting) and one of
    /// the same config changed by a lever: same weights, data and masks, so any difference is the lever's.</summary>
    static (StepResult Papers, StepResult Changed, PretrainConfig Config) FirstSteps(Func<PretrainConfig, PretrainConfig> lever)
    {
        var config = Mini(DecoderKind.Vit, TeacherTargetKind.Eob) with { UtteranceWeighting = UtteranceWeighting.Equal };
        using var papers = new BootstrapTrainer(config, CPU);
        using var changed = new BootstrapTrainer(lever(config), CPU);
        return (papers.TrainStep(Clips()), changed.TrainStep(Clips()), config);
    }

    [Fact]
    public void UtteranceLambdaZeroTrainsTheFrameTermAlone()
    {
        var (one, zero, config) = FirstSteps(c => c with { UtteranceLambda = 0 });
        // Same weights, data and masks: both terms are measured the same; only the total differs.
        Assert.Equal(one.FrameLoss, zero.FrameLoss, 6);
        Assert.Equal(one.UtteranceLoss, zero.UtteranceLoss, 6);
        Assert.Equal(zero.FrameLoss, zero.Loss, 6);
        Assert.Equal(one.FrameLoss + one.UtteranceLoss, one.Loss, 5);
        Assert.Throws<BatException>(() => (config with { UtteranceLambda = -1 }).Validate());
        Assert.Throws<BatException>(() => (config with { UtteranceLambda = double.NaN }).Validate());
    }

    [Fact]
    public void FrameWeightZeroLeavesTheOtherTermsAlone()
    {
        var (papers, noFrame, config) = FirstSteps(c => c with { FrameWeight = 0 });
        // Same weights, data and masks: the frame term is still measured (and logged), but only the utterance term is trained.
        Assert.Equal(papers.FrameLoss, noFrame.FrameLoss, 6);
        Assert.Equal(papers.UtteranceLoss, noFrame.UtteranceLoss, 6);
        Assert.True(noFrame.FrameLoss > 0.01, $"frame loss {noFrame.FrameLoss}");
        Assert.Equal(noFrame.UtteranceLoss, noFrame.Loss, 6);
        Assert.Throws<BatException>(() => (config with { FrameWeight = -1 }).Validate());
        Assert.Throws<BatException>(() => (config with { FrameWeight = double.PositiveInfinity }).Validate());
        // With every term at weight 0 nothing would train: refused, naming the options.
        var none = Assert.Throws<BatException>(() => (config with { FrameWeight = 0, UtteranceLambda = 0 }).Validate());
        Assert.Contains("--frame-weight", none.Message);
        (config with { FrameWeight = 0, UtteranceLambda = 0, Steps = 0 }).Validate();   // the untrained control trains nothing anyway
    }

    /// <summary>A lever that adds a regulariser: with the same weights, data and masks the papers' terms are the
    /// same, and the total has the (positive) new term on top. Returns the papers' step and config.</summary>
    static (StepResult Papers, PretrainConfig Config) AssertAddsATermToTheTotalOnly(Func<PretrainConfig, PretrainConfig> lever, double atLeast)
    {
        var (without, withTerm, config) = FirstSteps(lever);
        Assert.Equal(without.FrameLoss, withTerm.FrameLoss, 6);
        Assert.Equal(without.UtteranceLoss, withTerm.UtteranceLoss, 6);
        Assert.Equal(without.ContentError, withTerm.ContentError, 6);
        Assert.True(withTerm.Loss > without.Loss + atLeast, $"{withTerm.Loss} vs {without.Loss}");
        return (without, config);
    }

    [Fact]
    public void SpreadWeightAddsTheRegulariserToTheTotalOnly()
    {
        var (without, config) = AssertAddsATermToTheTotalOnly(c => c with { SpreadWeight = 1 }, atLeast: 1e-3);
        // The rank check is measured on every step: between 1 and the batch's rows less one (centred).
        Assert.InRange(without.ClsRank, 1.0, config.Batch * config.Clones - 1);
        // So is the content error: a positive ratio, near 1 or above for a decoder that has not learnt yet.
        Assert.True(without.ContentError > 0.5 && double.IsFinite(without.ContentError), $"content error {without.ContentError}");
        Assert.Throws<BatException>(() => (config with { SpreadWeight = -1 }).Validate());
        Assert.Throws<BatException>(() => (config with { SpreadWeight = 1, Batch = 1, Clones = 1 }).Validate());
    }

    [Fact]
    public void TokenSpreadWeightAddsItsTermToTheTotalOnly()
    {
        var (_, config) = AssertAddsATermToTheTotalOnly(c => c with { TokenSpreadWeight = 1 }, atLeast: 1e-3);
        Assert.Throws<BatException>(() => (config with { TokenSpreadWeight = -1 }).Validate());
        Assert.Throws<BatException>(() => (config with { TokenSpreadWeight = 1, Batch = 1, Clones = 1 }).Validate());
    }

    [Fact]
    public void CloneInvarianceAddsItsTermToTheTotalOnly()
    {
        // The clones' CLS differ (their masks), so the invariance term is positive.
        var (_, config) = AssertAddsATermToTheTotalOnly(c => c with { CloneInvariance = 1 }, atLeast: 0);
        Assert.Throws<BatException>(() => (config with { CloneInvariance = -1 }).Validate());
        Assert.Throws<BatException>(() => (config with { CloneInvariance = 1, Clones = 1 }).Validate());
    }

    [Fact]
    public void PooledUtteranceTargetTrainsTheClsTowardsTheTeachersCentredPool()
    {
        var (mean, pooled, papers) = FirstSteps(c => c with { UtteranceTarget = UtteranceTargetKind.Pooled });
        var config = papers with { UtteranceTarget = UtteranceTargetKind.Pooled };
        // Same weights, data and masks: the frame term is the same, only the CLS target differs.
        Assert.Equal(mean.FrameLoss, pooled.FrameLoss, 6);
        Assert.NotEqual(mean.UtteranceLoss, pooled.UtteranceLoss, 3);
        Assert.True(double.IsFinite(pooled.UtteranceLoss) && pooled.UtteranceLoss > 0);
        // It needs a teacher and at least two clips to centre over.
        Assert.Throws<BatException>(() => (config with { Targets = TeacherTargetKind.Pixels }).Validate());
        Assert.Throws<BatException>(() => (config with { Batch = 1 }).Validate());
    }

    [Fact]
    public void SpectralUtteranceTargetChangesOnlyTheClsTerm()
    {
        var (mean, spectral, papers) = FirstSteps(c => c with { UtteranceTarget = UtteranceTargetKind.Spectral });
        // Same weights, data and masks: the frame term is the same, only the CLS target differs.
        Assert.Equal(mean.FrameLoss, spectral.FrameLoss, 6);
        Assert.NotEqual(mean.UtteranceLoss, spectral.UtteranceLoss, 3);
        Assert.True(double.IsFinite(spectral.UtteranceLoss) && spectral.UtteranceLoss > 0);
        // It needs no teacher, and its statistics come from the data, not the batch: pixel targets and one clip a batch are fine.
        var alone = papers with { UtteranceTarget = UtteranceTargetKind.Spectral, Targets = TeacherTargetKind.Pixels, Batch = 1 };
        alone.Validate();
        using var trainer = new BootstrapTrainer(alone, CPU);
        Assert.True(double.IsFinite(trainer.TrainStep(Clips()).UtteranceLoss));
    }

    [Fact]
    public void CloneMixingChangesWhatTheStudentSeesNotTheTeachersTargets()
    {
        var config = Mini(DecoderKind.Vit, TeacherTargetKind.Eob) with { UtteranceWeighting = UtteranceWeighting.Equal };
        using var clean = new BootstrapTrainer(config, CPU);
        using var mixed = new BootstrapTrainer(config with { CloneMix = 0.5 }, CPU);
        var a = clean.TrainStep(Clips());
        var b = mixed.TrainStep(Clips());
        // Same weights, data and masks: the teacher's targets are the clean clip's (the same collapse check) ...
        Assert.Equal(a.ContentShare, b.ContentShare, 9);
        Assert.True(double.IsFinite(b.Loss));
        // ... and the student's views are not, so its gradients and its first update differ (the patch embedding's
        // weights see the inputs directly).
        var cleanWeights = clean.Student.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        double largest = mixed.Student.named_parameters().Max(p => p.parameter.sub(cleanWeights[p.name]).abs().max().item<float>());
        Assert.True(largest > 1e-5, $"largest weight difference {largest}");
        Assert.Throws<BatException>(() => (config with { CloneMix = 1 }).Validate());
        Assert.Throws<BatException>(() => (config with { CloneMix = -0.1 }).Validate());
        Assert.Throws<BatException>(() => (config with { CloneMix = 0.5, Batch = 1 }).Validate());
    }

    [Theory]
    [InlineData(DecoderKind.Cnn, TeacherTargetKind.Ffn)]
    [InlineData(DecoderKind.Vit, TeacherTargetKind.Eob)]
    [InlineData(DecoderKind.Vit, TeacherTargetKind.Pixels)]   // the pixel projection is drawn again from the seed alone
    public void ResumedRunReproducesTheUninterruptedLosses(DecoderKind decoder, TeacherTargetKind targets)
    {
        string straight = TempRun(), split = TempRun();
        try
        {
            var data = Clips();
            PretrainRun.Execute(Mini(decoder, targets, 6), data, straight, resume: false);
            PretrainRun.Execute(Mini(decoder, targets, 3), data, split, resume: false);
            var first = PretrainRun.Execute(Mini(decoder, targets, 6), data, split, resume: true);
            Assert.True(first.Completed);
            Assert.True(PretrainRun.IsComplete(split));
            var a = Losses(straight);
            var b = Losses(split);
            Assert.Equal(6, a.Length);
            Assert.Equal(a, b); // bit-identical trajectory

            // The encoder probes get back is the trained student.
            var source = CheckpointSource.Resolve(split);
            var encoder = source.LoadEncoder();
            Assert.Equal(64, source.Encoder.Dim);
            using var x = randn(1, 1, 128, 64);
            using var twin = new BootstrapTrainer(Mini(decoder, targets, 6), CPU);
            Assert.True(twin.Resume(straight));
            using var _ = no_grad();
            twin.Student.eval();
            using var o1 = encoder.Forward(x);
            using var o2 = twin.Student.Forward(x);
            Assert.True(o1.Last.eq(o2.Last).all().item<bool>());
        }
        finally
        {
            foreach (var d in new[] { straight, split }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [Fact]
    public void RandomWindowsAreSlicesOfTheInputLengthStartingAnywhereInTheClip()
    {
        // Frame t of clip b holds 1000 b + t in every mel bin, so a window shows where it starts.
        const int clipFrames = 10, frames = 4;
        using var clips = (arange(3).mul(1000).view(3, 1, 1, 1) + arange(clipFrames).view(1, 1, clipFrames, 1)).expand(3, 1, clipFrames, 2).to_type(ScalarType.Float32);
        var rng = new Random(5);
        var starts = new HashSet<int>();
        for (int draw = 0; draw < 60; draw++)
        {
            using var windows = BootstrapTrainer.RandomWindows(clips, frames, rng);
            Assert.Equal(new long[] { 3, 1, frames, 2 }, windows.shape);
            for (int b = 0; b < 3; b++)
            {
                var values = windows[b, 0, .., 0].data<float>().ToArray();
                int start = (int)values[0] - 1000 * b;
                Assert.InRange(start, 0, clipFrames - frames);
                Assert.Equal(Enumerable.Range(start, frames).Select(t => (float)(1000 * b + t)), values);
                starts.Add(start);
            }
        }
        Assert.Equal(Enumerable.Range(0, clipFrames - frames + 1), starts.Order());   // every start is drawn, the last one too
        Assert.Throws<ArgumentException>(() => BootstrapTrainer.RandomWindows(clips, clipFrames + 1, rng));
    }

    [Fact]
    public void ClipFramesTrainOnWindowsOfTheInputAndRefuseClipsOfAnotherLength()
    {
        var config = Mini() with { ClipFrames = 256 };   // the input is 128 frames
        Assert.Equal(256, config.FramesPerClip());
        Assert.Equal(128, Mini().FramesPerClip());
        manual_seed(5);
        using (var trainer = new BootstrapTrainer(config, CPU))
        {
            var r = trainer.TrainStep(new TensorClipSource(randn(5, 1, 256, 64)));
            Assert.True(double.IsFinite(r.Loss) && r.Loss > 0);
            var e = Assert.Throws<BatException>(() => trainer.TrainStep(Clips()));   // 128-frame clips
            Assert.Contains("have 128 frames", e.Message);
            Assert.Contains("keeps 256 per clip", e.Message);
        }
        foreach (int bad in new[] { 100, 128 * PretrainConfig.MaxClipWindows + 1, -1 })
            Assert.Contains("clip frames", Assert.Throws<BatException>(() => (Mini() with { ClipFrames = bad }).Validate()).Message);
        (Mini() with { ClipFrames = 128 }).Validate();   // the input's own length is allowed
    }

    static string[] Losses(string runDir) =>
        File.ReadAllLines(PretrainRun.MetricsPath(runDir)).Skip(1).Select(l => string.Join(",", l.Split(',')[..4])).ToArray();

    [Fact]
    public void CorruptedCheckpointIsRefusedAndLoadingFallsBack()
    {
        string run = TempRun();
        try
        {
            var config = Mini(steps: 4) with { CheckpointEvery = 2 };
            PretrainRun.Execute(config, Clips(), run, resume: false);
            var newest = Checkpoint.PathFor(run, 4);
            Assert.True(File.Exists(Checkpoint.PathFor(run, 2)) && File.Exists(newest));
            var bytes = File.ReadAllBytes(newest);
            bytes[^3] ^= 0x40;
            File.WriteAllBytes(newest, bytes);
            var error = Assert.Throws<BatException>(() => Checkpoint.Read(newest));
            Assert.Contains("corrupted", error.Message);
            Assert.Contains(newest, error.Message);
            var latest = Checkpoint.ReadLatest(run);
            Assert.Equal(2, latest!.Value.Header.Step);
            foreach (var t in latest.Value.Tensors.Values) t.Dispose();
            Assert.False(PretrainRun.IsComplete(run));
            // Resuming replays steps 3-4 from the good checkpoint.
            var summary = PretrainRun.Execute(config, Clips(), run, resume: true);
            Assert.Equal(4, summary.Step);
            Assert.Equal(4, File.ReadAllLines(PretrainRun.MetricsPath(run)).Length - 1);
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, true);
        }
    }

    /// <summary>Cancels (as Ctrl-C does) while the given load is in progress.</summary>
    sealed class CancelOnLoad(IClipSource inner, CancellationTokenSource cancel, int atLoad) : IClipSource
    {
        int loads;
        public int Count => inner.Count;
        public Tensor Load(IReadOnlyList<int> indices)
        {
            if (++loads == atLoad) cancel.Cancel();
            return inner.Load(indices);
        }
    }

    [Fact]
    public void CancellationFinishesTheStepAndSavesACheckpoint()
    {
        string run = TempRun();
        try
        {
            using var cancel = new CancellationTokenSource();
            var summary = PretrainRun.Execute(Mini(steps: 6), new CancelOnLoad(Clips(), cancel, 2), run, resume: false, cancel.Token);
            Assert.False(summary.Completed);
            Assert.Equal(2, summary.Step);
            Assert.Equal(Checkpoint.PathFor(run, 2), Checkpoint.All(run).Single());
            Assert.Equal(2, PretrainRun.ReadMetrics(run).Count);
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, true);
        }
    }

    [Fact]
    public void ExistingRunIsNotOverwrittenWithoutResume()
    {
        string run = TempRun();
        try
        {
            PretrainRun.Execute(Mini(steps: 1), Clips(), run, resume: false);
            Assert.Throws<BatException>(() => PretrainRun.Execute(Mini(steps: 1), Clips(), run, resume: false));
            Assert.Throws<BatException>(() => PretrainRun.Execute(Mini(steps: 2) with { Clones = 2 }, Clips(), run, resume: true));
        }
        finally
        {
            if (Directory.Exists(run)) Directory.Delete(run, true);
        }
    }
}
