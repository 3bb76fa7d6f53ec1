using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Frontends;

/// <summary>
/// A clip's spectrogram summarised per mel band: the mean and the (biased) standard deviation over time. What the
/// non-learned log-mel baseline reads (Bat.Probing.LogMelBaseline) and what the spectral utterance target asks the
/// CLS to say (Bat.Pretraining.TeacherTargets.Spectral); one definition for both, so the target is exactly the
/// baseline's summary.
/// </summary>
public static class BandStatistics
{
    /// <summary>(B, 1, T, M) spectrograms -> (B, 2M): the M band means, then the M band standard deviations.</summary>
    public static Tensor Of(Tensor features)
    {
        using var scope = NewDisposeScope();
        var x = features.squeeze(1);                                                 // (B, 1, T, M) -> (B, T, M)
        return cat([x.mean([1]), x.std(1, unbiased: false)], 1).MoveToOuterDisposeScope();
    }
}
