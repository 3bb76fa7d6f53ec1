using System.Diagnostics;
using Bat.Frontends;
using Bat.Model;
using Bat.Training;
using TorchSharp;
using static TorchSharp.torch;
using static Bat.KeptScalars;

namespace Bat.Pretraining;

/// <summary>Where pre-training clips come from: features (B, 1, T, M) for a list of clip indices.</summary>
public interface IClipSource
{
    int Count { get; }
    Tensor Load(IReadOnlyList<int> indices);
}

/// <summary>Clips already in memory as one (count, 1, T, M) tensor.</summary>
public sealed class TensorClipSource(Tensor features) : IClipSource
{
    public int Count => (int)features.shape[0];

    public Tensor Load(IReadOnlyList<int> indices)
    {
        using var index = tensor(indices.Select(i => (long)i).ToArray());
        return features.index_select(0, index);
    }
}

/// <summary>One update's numbers. ContentShare: the collapse check of the teacher's targets (TeacherTargets.ContentShare);
/// ClsRank: the effective rank of the student's CLS over the batch's rows (EffectiveRank, the dimensional-collapse check);
/// ContentError: the frame loss against that of each position's mean target (TeacherTargets.ContentError; 1 = position only).</summary>
public sealed record StepResult(long Step, double Loss, double FrameLoss, double UtteranceLoss, double LearningRate, double EmaDecay, double ContentShare,
    double ClsRank, double ContentError);

/// <summary>Accumulated seconds per phase of the step, for `bat bench pretrain`.</summary>
public sealed class StepTimings
{
    public double Data, Teacher, Student, Decoder, Backward, Optimizer, Ema, RankCheck;
    public double Total => Data + Teacher + Student + Decoder + Backward + Optimizer + Ema + RankCheck;

    public IEnumerable<(string Phase, double Seconds)> Phases =>
        [("data", Data), ("teacher forward", Teacher), ("student forward", Student), ("decoder + loss", Decoder),
         ("backward", Backward), ("optimiser", Optimizer), ("ema", Ema), ("rank check", RankCheck)];
}

/// <summary>
/// EAT/BAT bootstrap pre-training, one update per <see cref="TrainStep"/>:
///  1. clips for this step (order fixed by (seed, step)), a random window of the input's length when the stored
///     clips are longer (PretrainConfig.ClipFrames), random circular time shift;
///  2. teacher (EMA, no grad) sees the full clip -> targets from its FFN or end-of-block outputs;
///  3. student sees only the kept cells of C inverse-block-masked clones (one patch embedding per clip);
///  4. decoder fills in the masked cells; UFO loss = frame MSE at masked cells + lambda * utterance MSE;
///  5. AdamW update with warm-up + cosine lr and gradient clipping; EMA update of the teacher.
/// Every random draw of a step comes from (seed, step), so resuming from a checkpoint replays the same run.
/// </summary>
public sealed class BootstrapTrainer : IDisposable
{
    public PretrainConfig Config { get; }
    public Encoder Student { get; }
    public Encoder Teacher { get; }
    public Decoder Decoder { get; }
    /// <summary>Completed updates.</summary>
    public long Step { get; private set; }

    readonly AdamW optimizer;
    readonly MaskSpec maskSpec;
    readonly Device device;
    EpochShuffler? shuffler;
    Tensor? pixelProjection;
    (Tensor Mean, Tensor Std, Tensor Projection)? spectral;

    public BootstrapTrainer(PretrainConfig config, Device? device = null)
    {
        config.Validate();
        Config = config;
        this.device = device ?? Devices.Default;
        Devices.Seed(config.Seed); // initial weights depend on the seed only
        Student = new Encoder(config.Encoder);
        Decoder = DecoderConfig.Create(config.Decoder, config.Encoder);
        Teacher = new Encoder(config.Encoder);
        if (config.Init != LinearInit.Bert)
        {
            // The modules start with Bert's N(0, 0.02); BAT's official code draws xavier_uniform over the whole student.
            Encoder.InitLinears(Student, config.Init);
            Encoder.InitLinears(Decoder, config.Init);
        }
        Student.to(this.device);
        Decoder.to(this.device);
        Teacher.to(this.device);
        Ema.Initialise(Teacher, Student);
        optimizer = new AdamW(
            Student.named_parameters().Select(p => ("student." + p.name, p.parameter))
                .Concat(Decoder.named_parameters().Select(p => ("decoder." + p.name, p.parameter))),
            config.Beta1, config.Beta2, config.AdamEps, config.WeightDecay);
        maskSpec = MaskSpec.For(config);
    }

    /// <summary>A deterministic stream for (seed, step, purpose): SplitMix64 of the three.</summary>
    internal static int StepSeed(long seed, long step, int purpose)
    {
        ulong z = (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)step * 0xBF58476D1CE4E5B9UL ^ (ulong)purpose * 0x94D049BB133111EBUL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    /// <summary>Clip indices of a step: epoch-wise permutations of the data set, each fixed by (seed, epoch), so
    /// that a resumed run draws the same clips.</summary>
    internal int[] BatchIndices(long step, int count)
    {
        shuffler ??= new EpochShuffler(count, (epoch, order) => new Random(StepSeed(Config.Seed, epoch, 1)).Shuffle(order));
        return shuffler.Batch(step * Config.Batch, Config.Batch);
    }

    /// <summary>
    /// What the spectral utterance target needs once per run, from the data and the seed alone (so a resumed run gets
    /// the same): the mean and std of BandStatistics over up to 256 evenly spaced training clips, each (1, 2M), and
    /// a fixed random (2M, D) projection (2M &lt;= D at every preset).
    /// </summary>
    (Tensor, Tensor, Tensor) SpectralNormalisation(IClipSource data, long melBins)
    {
        using var scope = NewDisposeScope();
        int n = Math.Min(256, data.Count);
        var sample = Enumerable.Range(0, n).Select(i => (int)((long)i * data.Count / n)).ToArray();
        var stats = cat(sample.Chunk(32).Select(chunk => BandStatistics.Of(data.Load(chunk))).ToArray(), 0).to(device); // (n, 2M)
        using Scalar floor = 1e-3;   // kept alive for the call: see ScalarLifetimeGuardTests
        var mean = stats.mean([0], keepdim: true);
        var std = stats.std(0, unbiased: false, keepdim: true).clamp_min(floor);
        using var projectionNoise = new Generator((ulong)StepSeed(Config.Seed, 0, 5), device);
        var projection = randn(new long[] { 2 * melBins, Config.Encoder.Dim }, generator: projectionNoise, device: device);
        return (mean.DetachFromDisposeScope(), std.DetachFromDisposeScope(), projection.DetachFromDisposeScope());
    }

    /// <summary>For each clip a window of <paramref name="frames"/> frames starting uniformly in [0, T - frames]:
    /// (B, 1, T, M) -> (B, 1, frames, M).</summary>
    internal static Tensor RandomWindows(Tensor clips, int frames, Random rng)
    {
        int starts = (int)clips.shape[2] - frames + 1;
        if (starts < 1) throw new ArgumentException($"clips of {clips.shape[2]} frames are shorter than a window of {frames}");
        return cat(Enumerable.Range(0, (int)clips.shape[0])
            .Select(i => clips[i..(i + 1)].narrow(2, rng.Next(starts), frames)).ToArray(), 0);
    }

    public StepResult TrainStep(IClipSource data, StepTimings? timings = null)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        double Lap() { double s = clock.Elapsed.TotalSeconds; clock.Restart(); return s; }
        var rng = new Random(StepSeed(Config.Seed, Step, 2));
        int clones = Config.Clones;

        // 1. Data: (B, 1, T, M), each clip rolled by a random number of frames along time.
        var x = data.Load(BatchIndices(Step, data.Count)).to(device);
        if (x.shape[2] != Config.FramesPerClip())
            throw new BatException("pre-training clips", $"have {x.shape[2]} frames; the run's config keeps {Config.FramesPerClip()} per clip");
        // Stored clips longer than the input: a window per draw, so that over the passes the encoder sees each clip
        // whole, not only its first seconds.
        if (x.shape[2] > Config.Encoder.Frames) x = RandomWindows(x, Config.Encoder.Frames, rng);
        if (Config.TimeShift)
        {
            long frames = x.shape[2];
            x = cat(Enumerable.Range(0, (int)x.shape[0])
                .Select(i => x[i..(i + 1)].roll(rng.NextInt64(frames), 2)).ToArray(), 0);
        }
        var (keep, masked) = InverseBlockMask.Batch(maskSpec, (int)x.shape[0] * clones, rng, device); // (S, K), (S, M)
        if (timings is not null) timings.Data += Lap();

        // 2. Targets from the full input (the EMA teacher's, or the patches' own pixels), once per clip, repeated for the clones: (S, N, D).
        Tensor targets;
        Tensor? utteranceTargets = null;
        double contentShare;
        using (no_grad())
        {
            Tensor perClip;
            if (Config.Targets == TeacherTargetKind.Pixels)
            {
                if (pixelProjection is null)
                {
                    // A fixed random (P*P, D) projection, drawn from the seed alone so a resumed run gets the same one.
                    using var projectionNoise = new Generator((ulong)StepSeed(Config.Seed, 0, 4), device);
                    pixelProjection = randn(new long[] { Config.Encoder.PatchSize * Config.Encoder.PatchSize, Config.Encoder.Dim },
                        generator: projectionNoise, device: device).DetachFromDisposeScope();
                }
                perClip = TeacherTargets.Pixels(x, Config.Encoder.PatchSize, pixelProjection);
            }
            else
            {
                using var teacherOut = Teacher.Forward(x, returnFfn: Config.Targets == TeacherTargetKind.Ffn);
                var targetLayers = Config.Targets == TeacherTargetKind.Ffn ? teacherOut.FfnOutputs! : teacherOut.Layers;
                perClip = TeacherTargets.Build(targetLayers); // (B, N, D)
                if (Config.UtteranceTarget == UtteranceTargetKind.Pooled)
                    utteranceTargets = TeacherTargets.PooledUtterance(targetLayers).repeat_interleave(clones, dim: 0); // (B, D) -> (S, D)
            }
            if (Config.UtteranceTarget == UtteranceTargetKind.Spectral)
            {
                spectral ??= SpectralNormalisation(data, x.shape[3]);
                var (mean, std, projection) = spectral.Value;
                utteranceTargets = TeacherTargets.Spectral(x, mean, std, projection).repeat_interleave(clones, dim: 0); // (B, D) -> (S, D)
            }
            contentShare = TeacherTargets.ContentShare(perClip); // of the teacher's own targets, before any centring
            if (Config.CentreTargets) perClip = TeacherTargets.CentreOverPositions(perClip);
            targets = perClip.repeat_interleave(clones, dim: 0);
        }
        if (timings is not null) timings.Teacher += Lap();

        // 3. Student on kept cells only: (S, 1+K, D). With clone mixing each clone has a view of its own (S, 1, T, M),
        //    so the patch embedding runs per clone instead of once per clip.
        Student.train();
        using var studentOut = Config.CloneMix > 0
            ? Student.Forward(StudentViews(x, rng), keep)
            : Student.Forward(x, keep, clones);
        var last = studentOut.Last;
        if (timings is not null) timings.Student += Lap();

        // 4. Decoder predictions for all cells, loss on the masked ones.
        using var noise = new Generator((ulong)StepSeed(Config.Seed, Step, 3), device);
        var prediction = Decoder.Decode(last[.., 1..], keep, noise); // (S, N, D)
        var loss = UfoLoss.Compute(prediction, targets, masked, last[.., 0], Config.UtteranceLambda, Config.UtteranceWeighting, utteranceTargets,
            Config.FrameWeight);
        var total = loss.Total;
        if (Config.SpreadWeight > 0)
        {
            // Against dimensional collapse: keep the spread of what the probes read, the CLS and the mean token.
            Tensor Read(Tensor v) => Config.SpreadNormalised ? SpreadRegulariser.GainFree(v) : v; // (S, D)
            var spread = SpreadRegulariser.Compute(Read(last[.., 0])).add(SpreadRegulariser.Compute(Read(last[.., 1..].mean([1]))), One); // (S, D) each
            using Scalar weight = Config.SpreadWeight;   // kept alive for the call: see ScalarLifetimeGuardTests
            total = total.add(spread.mul(weight), One);
        }
        if (Config.TokenSpreadWeight > 0)
        {
            // What CGP reads is every token, against its prototypes: keep the tokens at one position apart from each other.
            using var centred = SpreadRegulariser.PositionCentred(last[.., 1..], keep, Config.Encoder.NumPatches); // (S*K, D)
            using Scalar weight = Config.TokenSpreadWeight;   // kept alive for the call: see ScalarLifetimeGuardTests
            total = total.add(SpreadRegulariser.Compute(centred).mul(weight), One);
        }
        if (Config.CloneInvariance > 0)
        {
            // What the clones of a clip share is the clip; what they do not (their masks, their backgrounds) is not content.
            using Scalar weight = Config.CloneInvariance;   // kept alive for the call: see ScalarLifetimeGuardTests
            total = total.add(CloneInvariance.Compute(last[.., 0], clones).mul(weight), One);
        }
        if (timings is not null) timings.Decoder += Lap();

        // 5. Update.
        optimizer.ZeroGrad();
        total.backward();
        if (timings is not null) timings.Backward += Lap();
        if (Config.ClipNorm > 0) nn.utils.clip_grad_norm_(optimizer.Parameters, Config.ClipNorm);
        double lr = LearningRateSchedule.WarmupCosine(Step, Config.LearningRate, Config.WarmupSteps, Config.Steps);
        optimizer.Step(lr);
        if (timings is not null) timings.Optimizer += Lap();
        // Pixel targets need no teacher: it stays at its initial weights (decay 1) and costs nothing per step.
        double decay = 1.0;
        if (Config.Targets != TeacherTargetKind.Pixels)
        {
            decay = Ema.Decay(Step, Config.EmaStart, Config.EmaEnd, Config.EmaAnnealSteps);
            Ema.Update(Teacher, Student, decay);
        }
        if (timings is not null) timings.Ema += Lap();

        double clsRank = EffectiveRank.Of(last[.., 0].detach());   // (S, D), measured before this update, as the losses are
        if (timings is not null) timings.RankCheck += Lap();       // an SVD per step: `bat bench pretrain` shows what it costs
        Step++;
        double frameLoss = loss.Frame.item<float>();
        return new StepResult(Step, total.item<float>(), frameLoss, loss.Utterance.item<float>(), lr, decay, contentShare, clsRank,
            TeacherTargets.ContentError(frameLoss, targets, masked, x.shape[0]));
    }

    /// <summary>Each clone's own view of its clip, a background clip of the batch mixed in (CloneMixing), drawn from the step's stream.</summary>
    Tensor StudentViews(Tensor x, Random rng)
    {
        var (other, lambda) = CloneMixing.Draw((int)x.shape[0], Config.Clones, Config.CloneMix, rng);
        return CloneMixing.Mix(x, Config.Clones, other, lambda);
    }

    /// <summary>Everything needed to continue exactly: student, teacher, decoder, AdamW moments, step, seed.</summary>
    public string SaveCheckpoint(string runDir) =>
        Checkpoint.Save(runDir, Step, Config.Seed,
            Student.state_dict().Select(p => ("student." + p.Key, p.Value))
                .Concat(Teacher.state_dict().Select(p => ("teacher." + p.Key, p.Value)))
                .Concat(Decoder.state_dict().Select(p => ("decoder." + p.Key, p.Value)))
                .Concat(optimizer.State()));

    /// <summary>Loads the newest good checkpoint of the run; false when it has none.</summary>
    public bool Resume(string runDir)
    {
        var latest = Checkpoint.ReadLatest(runDir);
        if (latest is null) return false;
        var (path, header, tensors) = latest.Value;
        try
        {
            if (header.Seed != Config.Seed)
                throw new BatException(path, $"was written with seed {header.Seed}, this run uses seed {Config.Seed}");
            Checkpoint.LoadInto(Student, tensors, "student.", path);
            Checkpoint.LoadInto(Teacher, tensors, "teacher.", path);
            Checkpoint.LoadInto(Decoder, tensors, "decoder.", path);
            optimizer.LoadState(tensors, header.Step, path);
            Step = header.Step;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        return true;
    }

    public void Dispose()
    {
        optimizer.Dispose();
        pixelProjection?.Dispose();
        if (spectral is var (m, sd, p)) { m.Dispose(); sd.Dispose(); p.Dispose(); }
        Student.Dispose();
        Teacher.Dispose();
        Decoder.Dispose();
    }
}
