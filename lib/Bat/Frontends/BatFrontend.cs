using TorchSharp;
using static TorchSharp.torch;
using static Bat.KeptScalars;

namespace Bat.Frontends;

/// <summary>
/// The BAT frontend: torchaudio.transforms.MelSpectrogram(16 kHz, n_fft 1024, hop 160, f_max 8000) power mel
/// (center, reflect padding, periodic Hann, HTK mel, no norm), in dB floored at 1e-10, clamped per example at
/// its max - 80 dB, then min-max scaled per example to [0, 1], then padded/cropped in time.
/// Computed in float64 (output float32): in float32 the FFT's rounding alone moves bins near the -80 dB floor by
/// ~1e-3 dB, which would make the result depend on the FFT library rather than on the signal.
/// </summary>
public sealed class BatFrontend : IFrontend
{
    public const int NFft = 1024, Hop = 160;
    public const double FMin = 0, FMax = 8000, TopDb = 80;

    // Kept Scalars: a number passed straight to a tensor op becomes a temporary Scalar that the GC may free
    // while libtorch still reads it (see ScalarLifetimeGuardTests).
    static readonly Scalar MinMaxEpsilon = 1e-8, PowerFloor = 1e-10, Ten = 10.0, TopDbScalar = TopDb;

    public FrontendConfig Config { get; }
    readonly float[] _filterbank;   // (n_fft/2 + 1, MelBins)
    readonly Dictionary<string, (Tensor Window, Tensor Filterbank)> _onDevice = [];

    public BatFrontend(FrontendConfig config)
    {
        if (config.Kind != FrontendConfig.Bat) throw new ArgumentException($"BatFrontend needs kind 'bat', not '{config.Kind}'");
        Config = config;
        _filterbank = MelBanks.Htk(NFft / 2 + 1, config.MelBins, FrontendConfig.SampleRate, FMin, FMax);
    }

    public Tensor Compute(Tensor waveforms)
    {
        using var scope = NewDisposeScope();
        var db = DecibelsF64(waveforms);                                               // (B, T, M)
        var min = db.amin([1, 2], keepdim: true);
        var max = db.amax([1, 2], keepdim: true);
        var scaled = ((db - min) / (max - min).add(MinMaxEpsilon, One)).to_type(ScalarType.Float32);
        return Frontend.PadOrCrop(scaled, Config.TargetFrames).unsqueeze(1).MoveToOuterDisposeScope(); // (B, 1, T, M)
    }

    /// <summary>(B, samples) -> (B, T, MelBins) power mel in dB, clamped at each example's max - 80 dB.</summary>
    public Tensor Decibels(Tensor waveforms)
    {
        using var scope = NewDisposeScope();
        return DecibelsF64(waveforms).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    Tensor DecibelsF64(Tensor waveforms)
    {
        using var scope = NewDisposeScope();
        var x = Frontend.AsBatch(waveforms);
        if (x.shape[1] <= NFft / 2)
            throw new ArgumentException($"the bat frontend needs more than {NFft / 2} samples per clip (reflect padding), got {x.shape[1]}");
        var (window, filterbank) = Constants(x.device);
        long frames = 1 + x.shape[1] / Hop;
        Tensor db;
        if (frames <= FramesPerBlock)
        {
            var spec = stft(x, NFft, Hop, NFft, window, center: true, pad_mode: PaddingModes.Reflect,
                            normalized: false, onesided: true, return_complex: true);   // (B, 513, T) complex
            db = PowerDb(spec, filterbank);                                              // (B, T, M)
        }
        else
        {
            // A long clip: the same frames (stft's centring is this reflect padding), a block at a time, so the
            // complex spectrogram of the whole clip never exists at once. Only the dB values (B, T, M) are kept.
            var padded = nn.functional.pad(x.unsqueeze(1), [NFft / 2, NFft / 2], PaddingModes.Reflect).squeeze(1);   // (B, S + n_fft)
            var blocks = new List<Tensor>();
            for (long t0 = 0; t0 < frames; t0 += FramesPerBlock)
            {
                using var block = NewDisposeScope();
                long count = Math.Min(FramesPerBlock, frames - t0);
                var piece = padded.narrow(1, t0 * Hop, (count - 1) * Hop + NFft);
                var spec = stft(piece, NFft, Hop, NFft, window, center: false, normalized: false, onesided: true, return_complex: true);
                blocks.Add(PowerDb(spec, filterbank).MoveToOuterDisposeScope());          // (B, count, M)
            }
            db = cat(blocks, 1);                                                         // (B, T, M)
        }
        var floor = db.amax([1, 2], keepdim: true).sub(TopDbScalar);
        return maximum(db, floor).MoveToOuterDisposeScope();
    }

    const long FramesPerBlock = 4096;

    /// <summary>(B, 513, T) complex STFT -> (B, T, M) power mel in dB (floored at 1e-10 power).</summary>
    static Tensor PowerDb(Tensor spec, Tensor filterbank)
    {
        var parts = view_as_real(spec);
        var power = (parts * parts).sum(-1);                                             // (B, 513, T) |z|^2 without sqrt
        var mel = matmul(power.transpose(1, 2), filterbank);                            // (B, T, M)
        return mel.clamp_min(PowerFloor).log10().mul(Ten);
    }

    (Tensor, Tensor) Constants(Device device)
    {
        lock (_onDevice)   // a data loader may call Compute from several threads
        {
            var key = device.ToString();
            if (!_onDevice.TryGetValue(key, out var c))
            {
                // torchaudio keeps the window and filterbank as float32 buffers even when it computes in float64;
                // rounding them the same way keeps the leakage into near-floor bins identical.
                c = (hann_window(NFft, periodic: true).to_type(ScalarType.Float64).to(device).DetachFromDisposeScope(),
                     tensor(_filterbank, [NFft / 2 + 1, Config.MelBins]).to_type(ScalarType.Float64).to(device).DetachFromDisposeScope());
                _onDevice[key] = c;
            }
            return c;
        }
    }
}
