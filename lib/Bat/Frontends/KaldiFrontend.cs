using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Frontends;

/// <summary>
/// torchaudio.compliance.kaldi.fbank as Audio-MAE/EAT ("kaldi") and BEATs ("kaldi-beats") call it, batched:
/// 25 ms frames every 10 ms (snip_edges: only whole frames), per-frame DC removal, pre-emphasis 0.97, window
/// (symmetric Hann for "kaldi", Povey = Hann^0.85 for "kaldi-beats"), zero-padded to a 512-point FFT, power
/// spectrum, Kaldi mel bank from 20 Hz to Nyquist, natural log floored at float32 epsilon. "kaldi" first removes
/// the waveform's mean; "kaldi-beats" scales it by 2^15. Then pad/crop in time and (x - mean) / (2 * std).
/// Computed in float64 (output float32): in float32 the FFT's rounding moves near-silent bins by up to ~1 log
/// unit (kaldi-beats on a pure tone), i.e. the result would depend on the FFT library.
/// </summary>
public sealed class KaldiFrontend : IFrontend
{
    public const int FrameLength = 400, FrameShift = 160, PaddedWindow = 512;
    public const double LowFreq = 20, Preemphasis = 0.97;
    static readonly double Epsilon = MathF.Pow(2, -23);   // torch.finfo(torch.float32).eps

    // Kept Scalars (see ScalarLifetimeGuardTests): temporaries could be freed by the GC mid-call.
    static readonly Scalar EpsilonScalar = Epsilon, PreemphasisScalar = Preemphasis, Int16Range = 32768.0;

    public FrontendConfig Config { get; }
    readonly float[] _banks;    // (MelBins, 257)
    readonly double[] _window;  // (400)
    readonly Dictionary<string, (Tensor Window, Tensor BanksT)> _onDevice = [];

    public KaldiFrontend(FrontendConfig config)
    {
        if (config.Kind is not (FrontendConfig.Kaldi or FrontendConfig.KaldiBeats))
            throw new ArgumentException($"KaldiFrontend needs kind 'kaldi' or 'kaldi-beats', not '{config.Kind}'");
        Config = config;
        _banks = MelBanks.Kaldi(config.MelBins, PaddedWindow, FrontendConfig.SampleRate, LowFreq, 0);
        // Symmetric Hann: 0.5 - 0.5 cos(2 pi n / (N - 1)); Povey raises it to 0.85 (BEATs uses Kaldi's default window).
        double exponent = config.Kind == FrontendConfig.KaldiBeats ? 0.85 : 1.0;
        _window = new double[FrameLength];
        for (int n = 0; n < FrameLength; n++)
            _window[n] = Math.Pow(0.5 - 0.5 * Math.Cos(2 * Math.PI * n / (FrameLength - 1)), exponent);
    }

    public Tensor Compute(Tensor waveforms)
    {
        if (Config.NormMean is not double mean || Config.NormStd is not double std)
            throw new ArgumentException($"the {Config.Kind} frontend needs normalisation constants (use FrontendConfig.For)");
        using var scope = NewDisposeScope();
        var fbank = Frontend.PadOrCrop(LogFbankF64(waveforms), Config.TargetFrames);   // (B, T, M)
        using Scalar meanScalar = mean, twoStd = 2 * std;
        return fbank.sub(meanScalar).div(twoStd).to_type(ScalarType.Float32).unsqueeze(1).MoveToOuterDisposeScope(); // (B, 1, T, M)
    }

    /// <summary>(B, samples) -> (B, T, MelBins) log mel energies, T = 1 + (samples - 400) / 160 (0 if shorter).</summary>
    public Tensor LogFbank(Tensor waveforms)
    {
        using var scope = NewDisposeScope();
        return LogFbankF64(waveforms).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    Tensor LogFbankF64(Tensor waveforms)
    {
        using var scope = NewDisposeScope();
        var x = Frontend.AsBatch(waveforms);
        long batch = x.shape[0], samples = x.shape[1];
        x = Config.Kind == FrontendConfig.KaldiBeats ? x.mul(Int16Range) : x - x.mean([1], keepdim: true);
        if (samples < FrameLength) return zeros(batch, 0, Config.MelBins, dtype: ScalarType.Float64, device: x.device).MoveToOuterDisposeScope();

        var frames = x.unfold(1, FrameLength, FrameShift);                              // (B, T, 400), a view
        // Every step from here is per frame, so a long clip is done in blocks of frames: its peak memory is that
        // of one block (a 10-minute clip would otherwise hold several (T, 512) float64 copies at once).
        long total = frames.shape[1];
        if (total <= FramesPerBlock) return LogMel(frames).MoveToOuterDisposeScope();
        var blocks = new List<Tensor>();
        for (long t0 = 0; t0 < total; t0 += FramesPerBlock)
        {
            using var block = NewDisposeScope();
            blocks.Add(LogMel(frames.narrow(1, t0, Math.Min(FramesPerBlock, total - t0))).MoveToOuterDisposeScope());
        }
        return cat(blocks, 1).MoveToOuterDisposeScope();                                // (B, T, M)
    }

    const long FramesPerBlock = 4096;

    /// <summary>(B, T, 400) raw frames -> (B, T, M) log mel energies.</summary>
    Tensor LogMel(Tensor frames)
    {
        var (window, banksT) = Constants(frames.device);
        frames = frames - frames.mean([2], keepdim: true);                              // remove DC per frame
        // Pre-emphasis y[n] = x[n] - 0.97 x[n-1], with x[-1] taken as x[0] (Kaldi's replicate edge).
        var previous = cat([frames[.., .., ..1], frames[.., .., ..^1]], 2);
        frames = (frames - previous.mul(PreemphasisScalar)) * window;
        frames = nn.functional.pad(frames, [0, PaddedWindow - FrameLength]);            // (B, T, 512)
        var parts = view_as_real(fft.rfft(frames, dim: 2));
        var power = (parts * parts).sum(-1);                                            // (B, T, 257) |z|^2
        var mel = matmul(power, banksT);                                                // (B, T, M)
        return mel.clamp_min(EpsilonScalar).log();
    }

    (Tensor, Tensor) Constants(Device device)
    {
        lock (_onDevice)   // a data loader may call Compute from several threads
        {
            var key = device.ToString();
            if (!_onDevice.TryGetValue(key, out var c))
            {
                c = (tensor(_window).to(device).DetachFromDisposeScope(),
                     tensor(_banks, [Config.MelBins, PaddedWindow / 2 + 1]).to_type(ScalarType.Float64).t().contiguous().to(device).DetachFromDisposeScope());
                _onDevice[key] = c;
            }
            return c;
        }
    }
}
