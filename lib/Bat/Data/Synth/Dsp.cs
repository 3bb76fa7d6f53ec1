namespace Bat.Data.Synth;

/// <summary>
/// Second-order IIR section (RBJ audio-EQ-cookbook designs), direct form I. Used to colour noise and to make
/// formant resonances; state is per instance, so every clip builds its own.
/// </summary>
internal sealed class Biquad
{
    readonly double _b0, _b1, _b2, _a1, _a2;
    double _x1, _x2, _y1, _y2;

    Biquad(double b0, double b1, double b2, double a0, double a1, double a2)
    {
        _b0 = b0 / a0; _b1 = b1 / a0; _b2 = b2 / a0; _a1 = a1 / a0; _a2 = a2 / a0;
    }

    static (double cos, double alpha) Prewarp(double freq, double q, int sampleRate)
    {
        double w0 = 2 * Math.PI * Math.Min(freq, 0.45 * sampleRate) / sampleRate;
        return (Math.Cos(w0), Math.Sin(w0) / (2 * q));
    }

    public static Biquad LowPass(double freq, double q, int sampleRate)
    {
        var (c, a) = Prewarp(freq, q, sampleRate);
        return new Biquad((1 - c) / 2, 1 - c, (1 - c) / 2, 1 + a, -2 * c, 1 - a);
    }

    public static Biquad HighPass(double freq, double q, int sampleRate)
    {
        var (c, a) = Prewarp(freq, q, sampleRate);
        return new Biquad((1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + a, -2 * c, 1 - a);
    }

    /// <summary>Band-pass with 0 dB peak gain at <paramref name="freq"/>; bandwidth = freq / q.</summary>
    public static Biquad BandPass(double freq, double q, int sampleRate)
    {
        var (_, a) = Prewarp(freq, q, sampleRate);
        double c = Math.Cos(2 * Math.PI * Math.Min(freq, 0.45 * sampleRate) / sampleRate);
        return new Biquad(a, 0, -a, 1 + a, -2 * c, 1 - a);
    }

    public double Step(double x)
    {
        double y = _b0 * x + _b1 * _x1 + _b2 * _x2 - _a1 * _y1 - _a2 * _y2;
        _x2 = _x1; _x1 = x; _y2 = _y1; _y1 = y;
        return y;
    }

    public void Apply(float[] x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = (float)Step(x[i]);
    }
}

/// <summary>Signal helpers for the synthetic benchmark (noise colours, envelopes, levels).</summary>
internal static class Dsp
{
    public enum NoiseColour { White, Pink, Brown, Blue }

    public static float[] White(SynthRng rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)rng.Normal();
        return x;
    }

    /// <summary>
    /// Noise with power spectrum ~ f^0 (white), f^-1 (pink), f^-2 (brown) or f^+1-ish (blue).
    /// Pink sums first-order low-passes with cutoffs spread over octaves (a 1/f approximation);
    /// brown is leaky integration of white; blue is the first difference of pink (f^-1 * f^2 = f^+1).
    /// </summary>
    public static float[] Noise(SynthRng rng, int n, NoiseColour colour, int sampleRate)
    {
        var w = White(rng, n);
        switch (colour)
        {
            case NoiseColour.White:
                return w;
            case NoiseColour.Brown:
            {
                double y = 0;
                for (int i = 0; i < n; i++) { y = 0.995 * y + w[i]; w[i] = (float)y; }
                return RemoveMean(w);
            }
            case NoiseColour.Pink:
                return Pink(w, sampleRate);
            default:
            {
                var p = Pink(w, sampleRate);
                float prev = 0;
                for (int i = 0; i < n; i++) { float d = p[i] - prev; prev = p[i]; p[i] = d; }
                return p;
            }
        }
    }

    static float[] Pink(float[] w, int sampleRate)
    {
        // A sum of one-pole low-passes with cutoffs every log2(3) octaves, each weighted by power 1/fc:
        // below f only the poles with fc > f contribute, a geometric sum dominated by ~1/f, so the sum is ~1/f.
        var cutoffs = new[] { 20.0, 60, 180, 540, 1620, 4860 };
        var poles = cutoffs.Select(fc => Math.Exp(-2 * Math.PI * fc / sampleRate)).ToArray();
        // A one-pole low-pass with unit DC gain passes white power ~ pi*fc/fs; scale to DC power 1/fc.
        var gains = cutoffs.Select((fc, k) => (1 - poles[k]) / Math.Sqrt(fc)).ToArray();
        var state = new double[poles.Length];
        for (int i = 0; i < w.Length; i++)
        {
            double s = 0;
            for (int k = 0; k < poles.Length; k++)
            {
                state[k] = poles[k] * state[k] + gains[k] * w[i];
                s += state[k];
            }
            w[i] = (float)s;
        }
        return RemoveMean(w);
    }

    static float[] RemoveMean(float[] x)
    {
        double mean = 0;
        foreach (var v in x) mean += v;
        mean /= Math.Max(1, x.Length);
        for (int i = 0; i < x.Length; i++) x[i] -= (float)mean;
        return x;
    }

    public static double Rms(ReadOnlySpan<float> x)
    {
        double s = 0;
        foreach (var v in x) s += (double)v * v;
        return Math.Sqrt(s / Math.Max(1, x.Length));
    }

    public static void Scale(Span<float> x, double gain)
    {
        float g = (float)gain;
        for (int i = 0; i < x.Length; i++) x[i] *= g;
    }

    /// <summary>Linear attack and release ramps (in samples), so sustained events start and stop without clicks.</summary>
    public static void Fade(float[] x, int attack, int release)
    {
        attack = Math.Min(attack, x.Length / 2);
        release = Math.Min(release, x.Length / 2);
        for (int i = 0; i < attack; i++) x[i] *= (float)i / attack;
        for (int i = 0; i < release; i++) x[x.Length - 1 - i] *= (float)i / release;
    }

    /// <summary>Exponential decay with time constant <paramref name="tauSeconds"/> (impacts, bells, clicks).</summary>
    public static void Decay(float[] x, double tauSeconds, int sampleRate)
    {
        double k = Math.Exp(-1.0 / (tauSeconds * sampleRate)), g = 1;
        for (int i = 0; i < x.Length; i++) { x[i] *= (float)g; g *= k; }
    }
}
