namespace Bat.Training;

/// <summary>
/// The one learning-rate schedule of pre-training, probing and fine-tuning (docs/method.md sections 3 and 4):
/// linear warm-up to the peak, then a half cosine from the peak down to a floor at the last step.
/// </summary>
public static class LearningRateSchedule
{
    /// <param name="step">0-based update index</param>
    /// <param name="floor">the rate at the last step (pre-training: 0; probes: 1e-6)</param>
    public static double WarmupCosine(long step, double peak, long warmup, long total, double floor = 0)
    {
        if (step < warmup) return peak * (step + 1) / warmup;
        double progress = Math.Min(1.0, (double)(step - warmup) / Math.Max(1, total - warmup));
        return floor + (peak - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
