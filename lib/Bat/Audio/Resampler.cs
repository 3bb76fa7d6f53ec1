namespace Bat.Audio;

/// <summary>
/// Band-limited resampling with a Hann-windowed sinc, the same filter as torchaudio.functional.resample's
/// defaults (lowpass_filter_width 6, rolloff 0.99, "sinc_interpolation"/"sinc_interp_hann"). The rates are
/// reduced by their gcd to o -> n; output sample i*n + p is the dot product of phase p's kernel with the
/// (zero-padded) input starting at i*o, i.e. a polyphase filter with n phases.
/// </summary>
public static class Resampler
{
    const int LowpassWidth = 6;
    const double Rolloff = 0.99;

    /// <summary>
    /// The largest polyphase kernel table (floats) a resampling may build: 16 M floats, 64 MB. Every common rate
    /// pair needs far less (44.1 -> 16 kHz: 76 k floats; the worst common one, 44056 Hz, 11 M); a rate whose gcd
    /// with the target is tiny (16001 Hz: 256 M floats) would need gigabytes.
    /// </summary>
    public const long MaxKernelFloats = 16L << 20;

    /// <summary>Floats in the kernel table of resampling <paramref name="fromRate"/> to <paramref name="toRate"/>.</summary>
    public static long KernelFloats(int fromRate, int toRate)
    {
        if (fromRate <= 0 || toRate <= 0 || fromRate == toRate) return 0;
        int g = Gcd(fromRate, toRate);
        long o = fromRate / g, n = toRate / g;
        long width = (long)Math.Ceiling(LowpassWidth * o / (Math.Min(o, n) * Rolloff));
        return n * (2 * width + o);
    }

    public static float[] Resample(float[] x, int fromRate, int toRate)
    {
        if (fromRate <= 0 || toRate <= 0) throw new ArgumentException($"sample rates must be positive ({fromRate} -> {toRate})");
        if (fromRate == toRate) return (float[])x.Clone();
        if (KernelFloats(fromRate, toRate) > MaxKernelFloats)
            throw new ArgumentException($"resampling {fromRate} Hz to {toRate} Hz needs a {KernelFloats(fromRate, toRate) >> 18} MB filter table (over {MaxKernelFloats >> 18} MB)");
        int g = Gcd(fromRate, toRate);
        int o = fromRate / g, n = toRate / g;
        var (kernels, width) = Kernels(o, n);
        int taps = 2 * width + o;

        // Input padded with `width` zeros before and `width + o` after (as torchaudio does).
        long outLength = ((long)n * x.Length + o - 1) / o;   // ceil(n * L / o)
        var y = new float[outLength];
        for (long j = 0; j < outLength; j++)
        {
            long block = j / n;
            int phase = (int)(j % n);
            long start = block * o - width;          // index into x of the kernel's first tap
            int k0 = (int)Math.Max(0, -start);
            int k1 = (int)Math.Min(taps, x.Length - start);
            var kernel = kernels[phase];
            double acc = 0;
            for (int k = k0; k < k1; k++) acc += kernel[k] * x[start + k];
            y[j] = (float)acc;
        }
        return y;
    }

    /// <summary>One kernel per output phase (n of them, each 2*width + o taps) and the half-width in input samples.</summary>
    internal static (float[][] Kernels, int Width) Kernels(int o, int n)
    {
        double baseFreq = Math.Min(o, n) * Rolloff;   // cut-off (in units of the reduced rates) below both Nyquists
        int width = (int)Math.Ceiling(LowpassWidth * o / baseFreq);
        int taps = 2 * width + o;
        var kernels = new float[n][];
        for (int p = 0; p < n; p++)
        {
            var kernel = kernels[p] = new float[taps];
            // torchaudio computes the phase offset -p/n in float32; doing the same keeps the taps bit-close.
            double offset = (float)-p / (float)n;
            for (int k = 0; k < taps; k++)
            {
                double t = (offset + (double)(k - width) / o) * baseFreq;   // time in units of the cut-off period
                t = Math.Clamp(t, -LowpassWidth, LowpassWidth);
                double window = Math.Pow(Math.Cos(t * Math.PI / LowpassWidth / 2), 2);
                double pt = t * Math.PI;
                double sinc = pt == 0 ? 1.0 : Math.Sin(pt) / pt;
                kernel[k] = (float)(sinc * window * baseFreq / o);
            }
        }
        return (kernels, width);
    }

    static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
