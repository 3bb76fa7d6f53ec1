namespace Bat.Frontends;

/// <summary>
/// The two triangular mel filterbanks the frontends use. TorchSharp has no melscale_fbanks, so both are written
/// out here from their definitions; they differ in where the triangles sit, which is why both exist.
/// </summary>
public static class MelBanks
{
    public static double HzToMelHtk(double hz) => 2595.0 * Math.Log10(1.0 + hz / 700.0);
    public static double MelToHzHtk(double mel) => 700.0 * (Math.Pow(10.0, mel / 2595.0) - 1.0);

    /// <summary>Kaldi's mel scale (natural log form; same curve as HTK's).</summary>
    public static double KaldiMel(double hz) => 1127.0 * Math.Log(1.0 + hz / 700.0);

    /// <summary>
    /// torchaudio.functional.melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None, mel_scale="htk"):
    /// n_mels + 2 points equally spaced in HTK mel from f_min to f_max; filter m rises linearly (in Hz) from point m
    /// to m+1 and falls to m+2, evaluated at the n_freqs STFT bin frequencies 0 .. sample_rate/2.
    /// Returns (n_freqs, n_mels) row-major.
    /// </summary>
    public static float[] Htk(int nFreqs, int nMels, double sampleRate, double fMin, double fMax)
    {
        double melMin = HzToMelHtk(fMin), melMax = HzToMelHtk(fMax);
        var fPts = new double[nMels + 2];
        for (int i = 0; i < fPts.Length; i++) fPts[i] = MelToHzHtk(melMin + (melMax - melMin) * i / (nMels + 1));
        var fb = new float[nFreqs * nMels];
        for (int f = 0; f < nFreqs; f++)
        {
            double hz = (sampleRate / 2) * f / (nFreqs - 1);
            for (int m = 0; m < nMels; m++)
            {
                double down = (hz - fPts[m]) / (fPts[m + 1] - fPts[m]);       // rising edge
                double up = (fPts[m + 2] - hz) / (fPts[m + 2] - fPts[m + 1]);  // falling edge
                fb[f * nMels + m] = (float)Math.Max(0.0, Math.Min(down, up));
            }
        }
        return fb;
    }

    /// <summary>
    /// torchaudio.compliance.kaldi.get_mel_banks (no VTLN warp) with the Nyquist column torchaudio appends:
    /// bins equally spaced in Kaldi mel between low and high frequency, the triangles built in the *mel* domain
    /// (not Hz as in <see cref="Htk"/>), evaluated at the FFT bins 0 .. paddedWindow/2 - 1; the Nyquist bin gets
    /// weight 0. Returns (numBins, paddedWindow/2 + 1) row-major.
    /// </summary>
    public static float[] Kaldi(int numBins, int paddedWindow, double sampleRate, double lowFreq, double highFreq)
    {
        int fftBins = paddedWindow / 2;
        double nyquist = sampleRate / 2;
        if (highFreq <= 0) highFreq += nyquist;   // Kaldi's convention: non-positive means offset from Nyquist
        if (!(lowFreq >= 0 && lowFreq < highFreq && highFreq <= nyquist))
            throw new ArgumentException($"mel bank needs 0 <= low ({lowFreq}) < high ({highFreq}) <= Nyquist ({nyquist})");
        double binWidth = sampleRate / paddedWindow;
        double melLow = KaldiMel(lowFreq), melHigh = KaldiMel(highFreq);
        double delta = (melHigh - melLow) / (numBins + 1);
        var banks = new float[numBins * (fftBins + 1)];
        for (int b = 0; b < numBins; b++)
        {
            double left = melLow + b * delta, center = melLow + (b + 1) * delta, right = melLow + (b + 2) * delta;
            for (int k = 0; k < fftBins; k++)
            {
                double mel = KaldiMel(binWidth * k);
                double up = (mel - left) / (center - left);
                double down = (right - mel) / (right - center);
                banks[b * (fftBins + 1) + k] = (float)Math.Max(0.0, Math.Min(up, down));
            }
        }
        return banks;
    }
}
