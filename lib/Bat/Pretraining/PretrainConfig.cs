using Bat.Frontends;
using Bat.Model;

namespace Bat.Pretraining;

/// <summary>Which teacher outputs are the targets (JSON "ffn" | "eob" | "pixels"): each block's MLP output before the
/// residual and LayerNorm (EAT), or each block's end output (BAT), docs/method.md section 3; or, as a research lever
/// outside both papers, no teacher at all: the masked patches' own normalised pixels (MAE-style content targets,
/// docs/method.md section 7).</summary>
public enum TeacherTargetKind { Ffn, Eob, Pixels }

/// <summary>How the utterance term is weighted against the frame term (JSON "fairseq" | "equal"): summed over the
/// S = batch x clones rows as EAT's fairseq code does, or averaged like the frame term (BAT). See UfoLoss.</summary>
public enum UtteranceWeighting { Fairseq, Equal }

/// <summary>What the student's CLS regresses (JSON "target-mean" | "pooled" | "spectral"): the mean of the frame targets
/// over the patches (EAT, BAT), or, as research levers outside both papers, the teacher's pooled output with the batch's
/// mean taken away (TeacherTargets.PooledUtterance) or the clip's per-band spectrum statistics (TeacherTargets.Spectral),
/// docs/method.md section 7.</summary>
public enum UtteranceTargetKind { TargetMean, Pooled, Spectral }

/// <summary>
/// Everything a bootstrap pre-training run depends on (docs/method.md section 3), saved as RUN/config.json.
/// Defaults are the paper's (EAT/BAT on AS-2M) unless a comment says otherwise.
/// </summary>
public sealed record PretrainConfig : IValidated
{
    public string Preset { get; init; } = "tiny";
    /// <summary>Variant name (eat, bat-cnn, bat, ...) for reports; the fields below are what matters.</summary>
    public string Variant { get; init; } = "custom";
    public EncoderConfig Encoder { get; init; } = EncoderConfig.Tiny;
    public DecoderConfig Decoder { get; init; } = new();
    /// <summary>The features the encoder was trained on; probes must compute the same ones.</summary>
    public FrontendConfig Frontend { get; init; } = new(FrontendConfig.Bat, 64, 512);
    /// <summary>The pre-training manifest, as "name.csv sha256:prefix" (Manifest.Fingerprint): which data the run
    /// saw, so that a resume or a reuse of the folder with other data is refused. Empty when unknown.</summary>
    public string TrainedOn { get; init; } = "";

    /// <summary>How the student's and decoder's Linear weights start (Model.LinearInit): bert (EAT, and the
    /// suite's default) or xavier (BAT's official code); the teacher starts as a copy of the student.</summary>
    public LinearInit Init { get; init; } = LinearInit.Bert;

    /// <summary>Ffn: teacher MLP outputs before residual/LN (EAT); Eob: end-of-block outputs (BAT); Pixels: the
    /// patches' normalised pixels (research lever, TeacherTargets.Pixels).</summary>
    public TeacherTargetKind Targets { get; init; } = TeacherTargetKind.Ffn;
    /// <summary>
    /// Subtract the batch's mean target at each patch position before the loss (TeacherTargets.CentreOverPositions).
    /// Off in both papers (docs/method.md section 7: the collapse check and this lever).
    /// </summary>
    public bool CentreTargets { get; init; }
    /// <summary>TargetMean: the CLS regresses the frame targets' mean over the patches (both papers). Pooled: the
    /// teacher's raw outputs pooled over patches and target layers, centred over the batch; Spectral: the clip's
    /// per-band log-mel mean and std, z-scored with the training clips' statistics (research levers).</summary>
    public UtteranceTargetKind UtteranceTarget { get; init; } = UtteranceTargetKind.TargetMean;
    /// <summary>Weight of the frame (masked prediction) term; 1 in both papers. 0 drops it, leaving the utterance term
    /// and the research levers below: the ablation that asks what the masked prediction adds beside them.</summary>
    public double FrameWeight { get; init; } = 1.0;
    /// <summary>Weight of the utterance (CLS) term; 1 in both papers.</summary>
    public double UtteranceLambda { get; init; } = 1.0;
    /// <summary>Fairseq (EAT: utterance term summed over the S = batch x clones rows) or Equal (BAT: mean). See UfoLoss.</summary>
    public UtteranceWeighting UtteranceWeighting { get; init; } = UtteranceWeighting.Fairseq;

    /// <summary>Weight of SpreadRegulariser on the student's CLS and mean token (research lever against
    /// dimensional collapse, docs/method.md section 7); 0 in both papers.</summary>
    public double SpreadWeight { get; init; }

    /// <summary>The spread term reads the CLS and mean token after a LayerNorm without gain or bias, as LP's head
    /// normalises the CLS before it reads it: a spread that lies in a feature-wide scale or offset of a clip's vector,
    /// which that normalisation takes away, does not count (research lever, docs/method.md section 6); false reads them
    /// as the block outputs them.</summary>
    public bool SpreadNormalised { get; init; }

    /// <summary>Weight of SpreadRegulariser on the student's final visible tokens, each less its position's mean over the
    /// batch (SpreadRegulariser.PositionCentred): keeps what tells tokens at one position apart, which CGP reads
    /// (research lever, docs/method.md section 7); 0 in both papers.</summary>
    public double TokenSpreadWeight { get; init; }

    /// <summary>Largest weight of the background each student clone has mixed in (CloneMixing; research lever, docs/method.md
    /// section 7); 0 in both papers: every clone sees the same clip, the teacher always the clean one.</summary>
    public double CloneMix { get; init; }

    /// <summary>Weight of the invariance term (CloneInvariance): each clone's final CLS against the mean CLS of its clip's
    /// clones, VICReg's third term beside the spread (research lever, docs/method.md section 7); 0 in both papers.</summary>
    public double CloneInvariance { get; init; }

    // Masking: keep 20% of the patches via inverse block masking with 5 x 5 blocks.
    public double KeepRatio { get; init; } = 0.2;
    public int MaskBlock { get; init; } = 5;
    /// <summary>Extra centre fraction: centres = floor(N (keep + 0.07) / block^2) (data2vec 2.0's mask_prob_adjust).</summary>
    public double CentreAdjust { get; init; } = 0.07;
    /// <summary>Masked clones per clip sharing one teacher pass (16 in the papers).</summary>
    public int Clones { get; init; } = 16;

    // Optimisation.
    public int Steps { get; init; } = 400_000;
    /// <summary>Clips per step (48 per GPU x 4 GPUs in EAT would be 192 in total; 48 per optimiser update per GPU).</summary>
    public int Batch { get; init; } = 48;
    public double LearningRate { get; init; } = 5e-4;
    public int WarmupSteps { get; init; } = 53_333;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double AdamEps { get; init; } = 1e-8;
    public double WeightDecay { get; init; } = 0.05;
    /// <summary>Gradient-norm clip (EAT: 4); 0 turns it off.</summary>
    public double ClipNorm { get; init; } = 4.0;

    // EMA teacher: decay linear from start to end over EmaAnnealSteps updates, then constant.
    public double EmaStart { get; init; } = 0.9998;
    public double EmaEnd { get; init; } = 0.99999;
    public int EmaAnnealSteps { get; init; } = 100_000;

    /// <summary>Random circular time shift of each clip (pre-training augmentation).</summary>
    public bool TimeShift { get; init; } = true;
    /// <summary>
    /// Frames of each pre-training clip kept (0: the encoder's input length, so a longer clip is cut to its start).
    /// Longer than the input: every draw of a clip takes a random window of the input's length from its first
    /// ClipFrames, so over the passes the whole clip is seen instead of its first seconds (research lever for inputs
    /// shorter than the clips, docs/method.md section 6). 0 in both papers, whose input is the whole clip.
    /// </summary>
    public int ClipFrames { get; init; }

    /// <summary>Frames stored per clip: <see cref="ClipFrames"/>, or the encoder's input length when it is 0.</summary>
    public int FramesPerClip() => ClipFrames > 0 ? ClipFrames : Encoder.Frames;
    public long Seed { get; init; } = 0;
    /// <summary>Steps between checkpoints (0: only at the end and on Ctrl-C).</summary>
    public int CheckpointEvery { get; init; } = 0;
    public int LogEvery { get; init; } = 10;

    /// <summary>How many input lengths a stored clip may hold (disk: clips x ClipFrames x mel bins x 4 bytes).</summary>
    public const int MaxClipWindows = 16;

    public void Validate()
    {
        if (Preset is null || Variant is null || Encoder is null || Decoder is null || Frontend is null || TrainedOn is null)
            throw new BatException("pretrain config", "a section or field is null");
        Encoder.Validate();
        Frontend.Validate();
        if (Frontend.MelBins != Encoder.MelBins)
            throw new BatException("pretrain config", $"frontend gives {Frontend.MelBins} mel bins, the encoder expects {Encoder.MelBins}");
        if (!Enum.IsDefined(Targets)) throw new BatException("pretrain config", $"targets must be ffn|eob, not {Targets}");
        if (!Enum.IsDefined(UtteranceWeighting))
            throw new BatException("pretrain config", $"utterance weighting must be fairseq|equal, not {UtteranceWeighting}");
        if (Decoder.Depth is < 1 or > 64 || Decoder.Dim is < 0 or > 4096 || Decoder.Heads is < 1 or > 256 || Decoder.MlpRatio is < 1 or > 16
            || Decoder.Groups < 1 || Decoder.Kernel is < 1 or > 15)
            throw new BatException("pretrain config", "a decoder size is out of range");
        if (!Enum.IsDefined(Decoder.Kind)) throw new BatException("pretrain config", $"decoder must be cnn|vit, not {Decoder.Kind}");
        if (Steps < 0 || Batch < 1 || Clones < 1) throw new BatException("pretrain config", "steps must be 0 or more (0: the untrained control), batch and clones positive");
        if (CentreTargets && Batch < 2) throw new BatException("pretrain config", "centred targets need a batch of at least 2 clips");
        if (!Enum.IsDefined(UtteranceTarget)) throw new BatException("pretrain config", $"utterance target must be target-mean|pooled|spectral, not {UtteranceTarget}");
        if (UtteranceTarget == UtteranceTargetKind.Pooled && (Targets == TeacherTargetKind.Pixels || Batch < 2))
            throw new BatException("pretrain config", "the pooled utterance target needs a teacher (targets ffn|eob) and a batch of at least 2 clips");
        if (ClipFrames != 0 && (ClipFrames < Encoder.Frames || ClipFrames > MaxClipWindows * Encoder.Frames))
            throw new BatException("pretrain config", $"clip frames {ClipFrames} must be 0 (the input length) or from the input's {Encoder.Frames} to {MaxClipWindows} times that");
        if (KeepRatio is <= 0 or >= 1) throw new BatException("pretrain config", $"keep ratio must be in (0, 1), not {KeepRatio}");
        if (MaskBlock < 1 || CheckpointEvery < 0 || LogEvery < 1 || WarmupSteps < 0 || EmaAnnealSteps < 0)
            throw new BatException("pretrain config", "mask block and log interval must be positive, checkpoint interval, warm-up and EMA steps not negative");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate) || EmaStart is < 0 or > 1 || EmaEnd is < 0 or > 1)
            throw new BatException("pretrain config", $"learning rate {LearningRate} must be positive and finite, EMA decays in [0, 1]");
        if (!(SpreadWeight >= 0) || !double.IsFinite(SpreadWeight)) throw new BatException("pretrain config", $"spread weight {SpreadWeight} must be 0 or more and finite");
        if (SpreadWeight > 0 && Batch * Clones < 2) throw new BatException("pretrain config", "the spread regulariser needs at least 2 samples per batch");
        if (!(TokenSpreadWeight >= 0) || !double.IsFinite(TokenSpreadWeight)) throw new BatException("pretrain config", $"token spread weight {TokenSpreadWeight} must be 0 or more and finite");
        if (TokenSpreadWeight > 0 && Batch * Clones < 2) throw new BatException("pretrain config", "the token spread term needs at least 2 samples per batch");
        if (!(CloneMix >= 0 && CloneMix < 1)) throw new BatException("pretrain config", $"clone mix {CloneMix} must be in [0, 1)");
        if (CloneMix > 0 && Batch < 2) throw new BatException("pretrain config", "clone mixing needs a batch of at least 2 clips");
        if (!(CloneInvariance >= 0) || !double.IsFinite(CloneInvariance)) throw new BatException("pretrain config", $"clone invariance {CloneInvariance} must be 0 or more and finite");
        if (CloneInvariance > 0 && Clones < 2) throw new BatException("pretrain config", "the clone invariance term needs at least 2 clones per clip");
        if (!(UtteranceLambda >= 0) || !double.IsFinite(UtteranceLambda))
            throw new BatException("pretrain config", $"utterance lambda {UtteranceLambda} must be 0 or more and finite");
        if (!(FrameWeight >= 0) || !double.IsFinite(FrameWeight))
            throw new BatException("pretrain config", $"frame weight {FrameWeight} must be 0 or more and finite");
        if (Steps > 0 && FrameWeight == 0 && UtteranceLambda == 0 && SpreadWeight == 0 && TokenSpreadWeight == 0 && CloneInvariance == 0)
            throw new BatException("pretrain config", "every loss term has weight 0: nothing would be trained (give --frame-weight, --utterance-lambda or a spread term a weight)");
    }
}
