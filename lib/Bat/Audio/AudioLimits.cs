using System.Globalization;

namespace Bat.Audio;

/// <summary>
/// Sanity bounds checked from a file's header before any sample is decoded, so a hostile or broken header
/// (an absurd rate, a data chunk claiming gigabytes) is an error instead of an allocation that takes the
/// machine down. The clip length limit is on decoded samples: <see cref="MaxSeconds"/> at 48 kHz (28.8 M mono
/// samples, 115 MB as float32 at the default of 10 minutes); a file at a lower rate may be longer in seconds
/// (30 minutes at 16 kHz), one at a higher rate shorter. Every dataset the suite supports has clips of at most
/// a minute (Speech Commands' background noise recordings are the longest).
/// Set <c>BAT_MAX_CLIP_SECONDS</c> to change the limit.
/// </summary>
public static class AudioLimits
{
    public const string MaxSecondsVariable = "BAT_MAX_CLIP_SECONDS";
    public const double DefaultMaxSeconds = 600;
    /// <summary>The rate the seconds limit is stated at.</summary>
    public const int ReferenceRate = 48000;
    public const int MinSampleRate = 1000, MaxSampleRate = 384000, MaxChannels = 64;

    /// <summary>The clip length limit in seconds at <see cref="ReferenceRate"/> (BAT_MAX_CLIP_SECONDS, default 600).</summary>
    public static double MaxSeconds
    {
        get
        {
            var text = Environment.GetEnvironmentVariable(MaxSecondsVariable);
            if (string.IsNullOrWhiteSpace(text)) return DefaultMaxSeconds;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !(seconds > 0) || seconds > 24 * 3600)
                throw new BatException(MaxSecondsVariable, $"'{text}' is not a number of seconds in (0, 86400]");
            return seconds;
        }
    }

    /// <summary>The most mono samples one clip may decode to.</summary>
    public static long MaxSamples => (long)(MaxSeconds * ReferenceRate);

    /// <summary>Throws naming <paramref name="file"/> when the rate is outside the supported range.</summary>
    public static void CheckRate(string file, long rate)
    {
        if (rate < MinSampleRate || rate > MaxSampleRate)
            throw new BatException(file, $"sample rate {rate} Hz is outside the supported {MinSampleRate}..{MaxSampleRate} Hz (corrupt header?)");
    }

    /// <summary>Throws naming <paramref name="file"/> when <paramref name="samples"/> exceed the clip length limit.</summary>
    public static void CheckLength(string file, long samples, long rate)
    {
        long max = MaxSamples;
        if (samples > max)
            throw new BatException(file, $"{samples} samples ({samples / (double)rate:0.#} s at {rate} Hz) is longer than the limit of {max} samples " +
                                         $"({MaxSeconds:0.#} s at {ReferenceRate / 1000} kHz); cut the file, or raise {MaxSecondsVariable}");
    }
}
