namespace Bat.Audio;

/// <summary>A mono clip: samples in [-1, 1] (nominally), the rate they were sampled at, and where they came from.</summary>
public sealed record AudioClip(float[] Samples, int SampleRate, string Source)
{
    public double Seconds => (double)Samples.Length / SampleRate;
}
