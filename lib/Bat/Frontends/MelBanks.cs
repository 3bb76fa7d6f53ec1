using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Frontends;

/// <summary>
/// The two triangular mel filterbanks the frontends use. TorchSharp has no melscale_fbanks, so both are written
/// out here from their definitions; they differ in where the triangles sit, which is why both exist.
/// </summary>
public static class MelBanks
{
    // Kept Scalars (see ScalarLifetimeGuardTests): temporaries could be freed by the GC mid-call.
    static readonly Scalar Zero = 0, One = 1.0, Two = 2.0, HtkDivisor = 2595.0, HzBreak = 700.0, KaldiFactor = 1127.0;

    public static double HzToMelHtk(double hz) => 2595.0 * Math.Log10(1.0 + hz / 700.0);
    
    /// <summary>Kaldi's mel scale (natural log form; same curve as HTK's).</summary>
    public static double KaldiMel(double hz) => 1127.0 * Math.Log(1.0 + hz / 700.0);

    /// <summary>
    /// torchaudio.functional.melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None, mel_scale="htk"):
    /// n_mels + 2 points equally spaced in HTK mel from f_min to f_max; filter m rises linearly (in Hz) from point m
    /// to m+1 and falls to m+2, evaluated at the n_freqs STFT bin frequencies 0 .. sample_rate/2.
    /// Returns (n_freqs, n_mels). Evaluated with float32 tensor ops in torchaudio's order: at a triangle's foot the
    /// exact weight is 0 but float32 leaves ~1e-7, and that residue of a loud bin is visible near the -80 dB floor.
    /// </summary>
    public static float[] Htk(int nFreqs, int nMels, double sampleRate, double fMin, double fMax)
    {
        using var scope = torch.NewDisposeScope();
        var freqs = torch.linspace(0, Math.Floor(sampleRate / 2), nFreqs, dtype: ScalarType.Float32);      // (F)
        var mels = torch.linspace(HzToMelHtk(fMin), HzToMelHtk(fMax), nMels + 2, dtype: ScalarType.Float32);
        var ten = torch.tensor(10.0f);                                                                     // 10 ** x as torchaudio: a float32 base
        var points = torch.pow(ten, mels.div(HtkDivisor)).sub(One).mul(HzBreak);                         // (M + 2) Hz
        var widths = points[1..] - points[..^1];                                                           // (M + 1)
        var slopes = points.unsqueeze(0) - freqs.unsqueeze(1);                                             // (F, M + 2)
        var rising = -slopes[.., ..^2] / widths[..^1];
        var falling = slopes[.., 2..] / widths[1..];
        return torch.clamp_min(torch.minimum(rising, falling), Zero).contiguous().data<float>().ToArray(); // (F, M)
    }

    /// <summary>
    /// torchaudio.compliance.kaldi.get_mel_banks (no VTLN warp) with the Nyquist column torchaudio appends:
    /// bins equally spaced in Kaldi mel between low and high frequency, the triangles built in the *mel* domain
    /// (not Hz as in <see cref="Htk"/>), evaluated at the FFT bins 0 .. paddedWindow/2 - 1; the Nyquist bin gets
    /// weight 0. Returns (numBins, paddedWindow/2 + 1). Float32 tensor ops in torchaudio's order, as for Htk.
    /// </summary>
    public static float[] Kaldi(int numBins, int paddedWindow, double sampleRate, double lowFreq, double highFreq)
    {
        int fftBins = paddedWindow / 2;
        double nyquist = sampleRate / 2;
        if (highFreq <= 0) highFreq += nyquist;   // Kaldi's convention: non-positive means offset from Nyquist
        if (!(lowFreq >= 0 && lowFreq < highFreq && highFreq <= nyquist))
            throw new ArgumentException($"mel bank needs 0 <= low ({lowFreq}) < high ({highFreq}) <= Nyquist ({nyquist})");
        double melLow = KaldiMel(lowFreq), melHigh = KaldiMel(highFreq);
        double delta = (melHigh - melLow) / (numBins + 1);
        using var scope = NewDisposeScope();
        using Scalar deltaScalar = delta, melLowScalar = melLow, binWidth = sampleRate / paddedWindow, bins = numBins, fft = fftBins;
        var bin = arange(bins, dtype: ScalarType.Float32).unsqueeze(1);                                    // (M, 1)
        var left = bin.mul(deltaScalar).add(melLowScalar, One);
        var center = bin.add(One, One).mul(deltaScalar).add(melLowScalar, One);
        var right = bin.add(Two, One).mul(deltaScalar).add(melLowScalar, One);
        var hz = arange(fft, dtype: ScalarType.Float32).mul(binWidth);
        var mel = hz.div(HzBreak).add(One, One).log().mul(KaldiFactor).unsqueeze(0);                      // (1, K)
        var up = (mel - left) / (center - left);
        var down = (right - mel) / (right - center);
        var banks = clamp_min(minimum(up, down), Zero);                                                       // (M, K)
        return nn.functional.pad(banks, [0, 1]).contiguous().data<float>().ToArray();                      // (M, K + 1)
    }
}
