namespace Bat.Probing;

/// <summary>
/// How a probe is trained (paper section 5: AdamW (0.9, 0.999), lr 1e-3, weight decay on the classifier
/// weights only, linear warm-up then cosine to 1e-6, best-validation checkpoint). The paper's AS-20k run is
/// 20k steps x batch 48 with 500 warm-up steps (<see cref="Base"/>); the smaller presets shorten the schedule.
/// </summary>
public sealed record ProbeTrainingConfig(
    int Steps,
    int BatchSize,
    int WarmupSteps,
    int EvaluateEvery,
    double LearningRate = 1e-3,
    double MinLearningRate = 1e-6,
    double WeightDecay = 0.05,
    double Beta1 = 0.9,
    double Beta2 = 0.999,
    int EvalBatchSize = 128,
    long Seed = 0)
{
    public static ProbeTrainingConfig Smoke => new(Steps: 60, BatchSize: 16, WarmupSteps: 6, EvaluateEvery: 20);
    public static ProbeTrainingConfig Tiny => new(Steps: 1500, BatchSize: 48, WarmupSteps: 75, EvaluateEvery: 150);
    public static ProbeTrainingConfig Small => new(Steps: 5000, BatchSize: 48, WarmupSteps: 250, EvaluateEvery: 500);
    public static ProbeTrainingConfig Base => new(Steps: 20000, BatchSize: 48, WarmupSteps: 500, EvaluateEvery: 1000);

    /// <summary>The same schedule shape for another number of steps (warm-up 5 %, about 10 evaluations).</summary>
    public ProbeTrainingConfig WithSteps(int steps) => this with
    {
        Steps = steps,
        WarmupSteps = Math.Max(1, Math.Min(WarmupSteps, steps / 20)),
        EvaluateEvery = Math.Max(1, steps / 10),
    };

    public void Validate()
    {
        if (Steps < 1 || BatchSize < 1 || WarmupSteps < 0 || EvaluateEvery < 1 || EvalBatchSize < 1)
            throw new ArgumentException($"invalid probe training config: {this}");
    }
}
