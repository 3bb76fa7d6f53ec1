namespace Bat.Data.Synth;

/// <summary>
/// One sound-event class of the synthetic benchmark: a name, a one-line description (copied into
/// data-manifests/README.md), a duration range and a renderer that draws a fresh random instance.
/// Renderers return an un-normalised signal of exactly <c>n</c> samples; the scene mixer sets the level.
/// </summary>
public sealed record SynthEventClass(
    string Name,
    string Description,
    double MinSeconds,
    double MaxSeconds,
    Func<SynthRng, int, int, float[]> Render);

/// <summary>
/// The 16 event classes. Each has a distinct spectro-temporal shape (harmonic vs inharmonic vs noise,
/// stationary vs sweeping vs repetitive, long vs impulsive) but every one varies in pitch, rate and length,
/// and several pairs are deliberately confusable (chirp up/down, vowel a/i, impact/bell, white burst/hiss),
/// so a probe must read fine structure, not just energy in a band.
/// </summary>
public static class EventClasses
{
    public static readonly IReadOnlyList<SynthEventClass> All =
    [
        new("harmonic_vibrato", "harmonic stack (f0 140-420 Hz, up to 10 partials, random tilt) with 4.5-7 Hz vibrato of 1.5-4 %",
            0.4, 2.0, HarmonicVibrato),
        new("chirp_up", "exponential sine sweep upwards, 200-800 Hz to 2-6 kHz", 0.12, 1.0, (r, n, sr) => Chirp(r, n, sr, up: true)),
        new("chirp_down", "exponential sine sweep downwards, 2-6 kHz to 200-800 Hz", 0.12, 1.0, (r, n, sr) => Chirp(r, n, sr, up: false)),
        new("click_train", "train of 1.5 ms decaying broadband clicks at 6-25 clicks/s", 0.3, 1.5, ClickTrain),
        new("clap", "1-3 band-passed (1-3 kHz) noise bursts 10-25 ms apart with 8-20 ms decay", 0.04, 0.15, Clap),
        new("noise_burst", "white noise burst with 5 ms attack and 50-300 ms exponential decay", 0.1, 0.8, NoiseBurst),
        new("hiss_high", "steady high-passed noise (cutoff 3.5-6 kHz)", 0.2, 1.5, HissHigh),
        new("rumble_low", "steady low-passed brown noise (cutoff 120-300 Hz)", 0.4, 2.0, RumbleLow),
        new("am_tone", "sine 500-2500 Hz, amplitude-modulated at 8-30 Hz with depth 0.7-1", 0.3, 1.5, AmTone),
        new("fm_siren", "sine 700-1800 Hz, frequency-modulated at 1.5-5 Hz with 150-500 Hz deviation", 0.5, 2.0, FmSiren),
        new("vowel_a", "glottal pulse train (f0 90-230 Hz, jitter) through formants F1 650-850, F2 1050-1350, F3 2400-2800 Hz",
            0.2, 0.8, (r, n, sr) => Vowel(r, n, sr, [(650, 850), (1050, 1350), (2400, 2800)])),
        new("vowel_i", "glottal pulse train (f0 90-230 Hz, jitter) through formants F1 240-330, F2 2050-2450, F3 2850-3250 Hz",
            0.2, 0.8, (r, n, sr) => Vowel(r, n, sr, [(240, 330), (2050, 2450), (2850, 3250)])),
        new("impact", "2-4 inharmonic damped modes 90-900 Hz (decay 20-90 ms) with a 3 ms noise transient", 0.08, 0.35, Impact),
        new("bell", "inharmonic partials at 1, 2.0, 2.76, 5.4, 8.9 x f (300-1100 Hz), decay 0.3-1.2 s", 0.6, 2.0, Bell),
        new("beeps", "on/off (50-90 ms / 40-80 ms) pattern of a two-tone chord 700-1500 Hz", 0.3, 1.2, Beeps),
        new("bird_trill", "12-20 syllables/s of 20-45 ms fast downward sweeps between 5-6.5 kHz and 2.5-3.5 kHz", 0.2, 1.0, BirdTrill),
    ];

    public static IReadOnlyList<string> Names => All.Select(c => c.Name).ToList();

    const double TwoPi = 2 * Math.PI;

    static float[] HarmonicVibrato(SynthRng rng, int n, int sr)
    {
        double f0 = rng.LogUniform(140, 420), rate = rng.Uniform(4.5, 7), depth = rng.Uniform(0.015, 0.04);
        double tilt = rng.Uniform(0.6, 1.4), vibPhase = rng.Uniform(0, TwoPi);
        int partials = Math.Min(10, (int)(0.45 * sr / (f0 * (1 + depth))));
        var amp = Enumerable.Range(1, partials).Select(k => 1 / Math.Pow(k, tilt)).ToArray();
        var x = new float[n];
        double phase = 0;
        for (int i = 0; i < n; i++)
        {
            double f = f0 * (1 + depth * Math.Sin(TwoPi * rate * i / sr + vibPhase));
            phase += TwoPi * f / sr;
            // sin(k p) by the recurrence sin(kp) = 2 cos(p) sin((k-1)p) - sin((k-2)p): one sin/cos per sample.
            double c2 = 2 * Math.Cos(phase), prev = 0, cur = Math.Sin(phase), s = 0;
            for (int k = 0; k < partials; k++)
            {
                s += amp[k] * cur;
                (prev, cur) = (cur, c2 * cur - prev);
            }
            x[i] = (float)s;
        }
        Dsp.Fade(x, sr / 30, sr / 12);
        return x;
    }

    static float[] Chirp(SynthRng rng, int n, int sr, bool up)
    {
        double lo = rng.Uniform(200, 800), hi = rng.Uniform(2000, 6000);
        double f1 = up ? lo : hi, f2 = up ? hi : lo;
        double k = Math.Log(f2 / f1) / Math.Max(1, n - 1);
        var x = new float[n];
        double phase = 0;
        for (int i = 0; i < n; i++)
        {
            phase += TwoPi * f1 * Math.Exp(k * i) / sr;
            x[i] = (float)Math.Sin(phase);
        }
        Dsp.Fade(x, sr / 200, sr / 100);
        return x;
    }

    static float[] ClickTrain(SynthRng rng, int n, int sr)
    {
        double rate = rng.Uniform(6, 25);
        int period = (int)(sr / rate), clickLen = Math.Max(4, (int)(0.0015 * sr));
        var x = new float[n];
        for (int start = rng.Int(0, period / 4); start < n; start += period)
            for (int j = 0; j < clickLen && start + j < n; j++)
                x[start + j] = (float)(rng.Normal() * Math.Exp(-4.0 * j / clickLen));
        return x;
    }

    static float[] Clap(SynthRng rng, int n, int sr)
    {
        var x = new float[n];
        int bursts = rng.Int(1, 3), at = 0;
        var band = Biquad.BandPass(rng.Uniform(1000, 3000), rng.Uniform(1.0, 2.5), sr);
        double tau = rng.Uniform(0.008, 0.02);
        for (int b = 0; b < bursts && at < n; b++)
        {
            for (int j = at; j < n; j++) x[j] += (float)(rng.Normal() * Math.Exp(-(j - at) / (tau * sr)));
            at += (int)(rng.Uniform(0.010, 0.025) * sr);
        }
        band.Apply(x);
        return x;
    }

    static float[] NoiseBurst(SynthRng rng, int n, int sr)
    {
        var x = Dsp.White(rng, n);
        Dsp.Decay(x, rng.Uniform(0.05, 0.3), sr);
        Dsp.Fade(x, sr / 200, sr / 100);
        return x;
    }

    static float[] HissHigh(SynthRng rng, int n, int sr)
    {
        var x = Dsp.White(rng, n);
        double cutoff = rng.Uniform(3500, 6000);
        Biquad.HighPass(cutoff, 0.7, sr).Apply(x);
        Biquad.HighPass(cutoff, 0.7, sr).Apply(x);   // 4th order: a clear spectral edge
        Dsp.Fade(x, sr / 50, sr / 20);
        return x;
    }

    static float[] RumbleLow(SynthRng rng, int n, int sr)
    {
        var x = Dsp.Noise(rng, n, Dsp.NoiseColour.Brown, sr);
        double cutoff = rng.Uniform(120, 300);
        Biquad.LowPass(cutoff, 0.7, sr).Apply(x);
        Biquad.LowPass(cutoff, 0.7, sr).Apply(x);
        Dsp.Fade(x, sr / 10, sr / 10);
        return x;
    }

    static float[] AmTone(SynthRng rng, int n, int sr)
    {
        double f = rng.LogUniform(500, 2500), rate = rng.Uniform(8, 30), depth = rng.Uniform(0.7, 1.0);
        double p0 = rng.Uniform(0, TwoPi);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double t = (double)i / sr;
            x[i] = (float)((1 - depth * 0.5 * (1 + Math.Cos(TwoPi * rate * t))) * Math.Sin(TwoPi * f * t + p0));
        }
        Dsp.Fade(x, sr / 100, sr / 50);
        return x;
    }

    static float[] FmSiren(SynthRng rng, int n, int sr)
    {
        double fc = rng.Uniform(700, 1800), rate = rng.Uniform(1.5, 5), dev = rng.Uniform(150, 500);
        double m0 = rng.Uniform(0, TwoPi);
        var x = new float[n];
        double phase = 0;
        for (int i = 0; i < n; i++)
        {
            phase += TwoPi * (fc + dev * Math.Sin(TwoPi * rate * i / sr + m0)) / sr;
            x[i] = (float)Math.Sin(phase);
        }
        Dsp.Fade(x, sr / 50, sr / 50);
        return x;
    }

    /// <summary>Source-filter vowel: a decaying pulse per glottal period, shaped by parallel formant resonators.</summary>
    static float[] Vowel(SynthRng rng, int n, int sr, (double Lo, double Hi)[] formants)
    {
        double f0 = rng.LogUniform(90, 230);
        var source = new float[n];
        double t = rng.Uniform(0, sr / f0);
        while (t < n)
        {
            int i = (int)t;
            // A one-sided glottal-like pulse: sharp closure, short exponential tail.
            for (int j = 0; j < 24 && i + j < n; j++) source[i + j] += (float)Math.Exp(-j / 4.0);
            t += sr / (f0 * (1 + 0.02 * rng.Normal()));   // 2 % jitter
        }
        var x = new float[n];
        double gain = 1;
        foreach (var (lo, hi) in formants)
        {
            double f = rng.Uniform(lo, hi);
            var res = Biquad.BandPass(f, f / 80.0, sr);   // ~80 Hz bandwidth
            for (int i = 0; i < n; i++) x[i] += (float)(gain * res.Step(source[i]));
            gain *= 0.5;   // higher formants weaker, as in speech
        }
        Dsp.Fade(x, sr / 40, sr / 20);
        return x;
    }

    static float[] Impact(SynthRng rng, int n, int sr)
    {
        var x = new float[n];
        int modes = rng.Int(2, 4);
        for (int m = 0; m < modes; m++)
        {
            double f = rng.LogUniform(90, 900), tau = rng.Uniform(0.02, 0.09), a = rng.Uniform(0.4, 1), p = rng.Uniform(0, TwoPi);
            AddDampedSine(x, a, f, tau, p, sr);
        }
        int transient = (int)(0.003 * sr);
        for (int i = 0; i < Math.Min(transient, n); i++) x[i] += (float)(rng.Normal() * (1 - (double)i / transient));
        return x;
    }

    static float[] Bell(SynthRng rng, int n, int sr)
    {
        double f = rng.LogUniform(300, 1100), tau = rng.Uniform(0.3, 1.2);
        double[] ratios = [1, 2.0, 2.76, 5.4, 8.9];
        var x = new float[n];
        for (int k = 0; k < ratios.Length; k++)
        {
            double fk = f * ratios[k] * (1 + 0.01 * rng.Normal());
            if (fk > 0.45 * sr) continue;
            double a = 1.0 / (1 + k), tk = tau / (1 + 0.5 * k), p = rng.Uniform(0, TwoPi);   // high partials die first
            AddDampedSine(x, a, fk, tk, p, sr);
        }
        Dsp.Fade(x, sr / 1000, sr / 50);
        return x;
    }

    /// <summary>
    /// Adds a e^(-t/tau) sin(2 pi f t + p) by its two-term recurrence y[n] = 2 r cos(w) y[n-1] - r^2 y[n-2]
    /// (r = e^(-1/(tau sr)), w = 2 pi f / sr), which is exact and avoids a sin and an exp per sample.
    /// </summary>
    static void AddDampedSine(float[] x, double a, double f, double tau, double p, int sr)
    {
        double r = Math.Exp(-1 / (tau * sr)), w = TwoPi * f / sr, c = 2 * r * Math.Cos(w), r2 = r * r;
        double y2 = a * Math.Sin(p - w) / r, y1 = a * Math.Sin(p);   // values at n = -1 and n = 0
        if (x.Length > 0) x[0] += (float)y1;
        for (int i = 1; i < x.Length; i++)
        {
            double y = c * y1 - r2 * y2;
            x[i] += (float)y;
            (y2, y1) = (y1, y);
        }
    }

    static float[] Beeps(SynthRng rng, int n, int sr)
    {
        double f1 = rng.Uniform(700, 1500), f2 = f1 * rng.Uniform(1.25, 1.6);
        int on = (int)(rng.Uniform(0.05, 0.09) * sr), off = (int)(rng.Uniform(0.04, 0.08) * sr), ramp = sr / 500;
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            int pos = i % (on + off);
            if (pos >= on) continue;
            double env = Math.Min(1, Math.Min(pos, on - pos) / (double)ramp);
            x[i] = (float)(env * (Math.Sin(TwoPi * f1 * i / sr) + Math.Sin(TwoPi * f2 * i / sr)));
        }
        return x;
    }

    static float[] BirdTrill(SynthRng rng, int n, int sr)
    {
        double rate = rng.Uniform(12, 20), hi = rng.Uniform(5000, 6500), lo = rng.Uniform(2500, 3500);
        int period = (int)(sr / rate), syllable = Math.Min(period, (int)(rng.Uniform(0.02, 0.045) * sr));
        var x = new float[n];
        for (int start = 0; start < n; start += period)
        {
            double phase = 0;
            for (int j = 0; j < syllable && start + j < n; j++)
            {
                double u = (double)j / syllable;
                phase += TwoPi * (hi + (lo - hi) * u) / sr;
                x[start + j] = (float)(Math.Sin(Math.PI * u) * Math.Sin(phase));   // half-sine syllable envelope
            }
        }
        return x;
    }
}
