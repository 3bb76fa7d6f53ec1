namespace Bat.Data.Synth;

/// <summary>
/// A small, fully specified random generator (xoshiro256** seeded by SplitMix64) so the benchmark is the same
/// on every .NET version and thread count: each clip gets its own stream from (seed, variant, clip index).
/// </summary>
public sealed class SynthRng
{
    ulong _s0, _s1, _s2, _s3;
    double? _spareNormal;

    public SynthRng(long seed, long stream = 0, long index = 0)
    {
        ulong x = (ulong)seed ^ 0x9E3779B97F4A7C15UL * ((ulong)stream + 1) ^ 0xD1B54A32D192ED03UL * ((ulong)index + 1);
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Log-uniform in [lo, hi]: equal probability per octave, the natural prior for frequencies.</summary>
    public double LogUniform(double lo, double hi) => lo * Math.Exp(Math.Log(hi / lo) * NextDouble());

    /// <summary>Uniform integer in [lo, hi] inclusive.</summary>
    public int Int(int lo, int hi) => lo + (int)(NextUInt64() % (ulong)(hi - lo + 1));

    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Standard normal (Box-Muller, keeping the second value).</summary>
    public double Normal()
    {
        if (_spareNormal is { } spare) { _spareNormal = null; return spare; }
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        double r = Math.Sqrt(-2 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Int(0, i);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
