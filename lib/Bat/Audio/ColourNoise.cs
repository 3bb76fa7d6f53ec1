using TorchSharp;
using static TorchSharp.torch;
using static Bat.KeptScalars;

namespace Bat.Audio;

/// <summary>
/// The official fine-tuning augmentation of ESC-50 and SC-v2 (houtan-ghaffari/BAT_ICML2026 data/augmentations.py
/// apply_color_noise): with probability <c>chance</c> per clip, add power-law noise whose power spectrum falls as
/// f^-decay (decay uniform in [-2, 2]: 1 pink, 2 brown, -1 blue, -2 violet) at an SNR uniform in [5, 25] dB against
/// the clip's RMS. Applied to waveforms before the frontend, so the noise is in the spectrogram as a microphone
/// would record it.
/// </summary>
public static class ColourNoise
{
    static readonly Scalar Two = 2, Twenty = 20, Ln10 = Math.Log(10), Floor = 1e-8;   // kept Scalars: see ScalarLifetimeGuardTests

    /// <summary>Adds noise to a batch of waveforms (B, S), drawing everything from <paramref name="generator"/>.</summary>
    public static Tensor Augment(Tensor x, double chance, Generator generator)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], s = x.shape[1];
        // The official draw order: decay, SNR, white noise, then the per-clip coin.
        var decay = empty(b, 1, dtype: x.dtype, device: x.device).uniform_(-2.0, 2.0, generator);
        var snrDb = empty(b, 1, dtype: x.dtype, device: x.device).uniform_(5.0, 25.0, generator);
        var noise = randn(b, s, dtype: x.dtype, device: x.device, generator: generator);
        var on = empty(b, 1, dtype: x.dtype, device: x.device).bernoulli_(chance, generator);
        return Apply(x, decay, snrDb, noise, on).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The deterministic part, given the draws: white noise (B, S) shaped in the frequency domain by 1 / f^(decay/2)
    /// (amplitude, so the power falls as f^-decay; f counts rfft bins from 1), scaled to unit RMS, then to
    /// clip RMS / 10^(SNR/20), times the coin <paramref name="on"/> (B, 1) in {0, 1}, and added to x.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor decay, Tensor snrDb, Tensor noise, Tensor on)
    {
        using var scope = NewDisposeScope();
        var spectrum = fft.rfft(noise, dim: 1);                                            // (B, S) -> (B, S/2+1) complex
        using Scalar first = 1, end = spectrum.shape[1] + 1;                               // kept Scalars: see ScalarLifetimeGuardTests
        var bins = arange(first, end, dtype: x.dtype, device: x.device).unsqueeze(0);      // (1, F): bins counted from 1
        var shaping = bins.pow(decay.div(Two)).reciprocal();                               // (B, F)
        var shaped = fft.irfft(spectrum.mul(shaping), n: x.shape[1], dim: 1);             // -> (B, S)
        shaped = shaped.div(shaped.mul(shaped).mean([-1], keepdim: true).sqrt().add(Floor, One));
        var cleanRms = x.mul(x).mean([-1], keepdim: true).sqrt();                         // (B, 1)
        var amplitude = cleanRms.div(snrDb.div(Twenty).mul(Ln10).exp()).mul(on);           // rms / 10^(snr/20)
        return x.add(amplitude.mul(shaped), One).MoveToOuterDisposeScope();
    }
}
