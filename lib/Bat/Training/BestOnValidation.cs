using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Training;

/// <summary>
/// Best-on-validation selection, shared by the probes and fine-tuning (docs/method.md section 4): evaluate on the
/// validation split every few steps and at the end (<see cref="IsEvaluationStep"/>), keep a copy of the
/// parameters of the evaluation with the best score (<see cref="Offer"/>), and end holding those
/// (<see cref="Restore"/>): the reported model is the best validation checkpoint, not the last one.
/// </summary>
public sealed class BestOnValidation : IDisposable
{
    Dictionary<string, Tensor>? best;

    /// <summary>The best validation score so far (negative infinity before the first evaluation).</summary>
    public double Score { get; private set; } = double.NegativeInfinity;

    /// <summary>Whether to evaluate after <paramref name="stepsDone"/> of <paramref name="totalSteps"/> updates.</summary>
    public static bool IsEvaluationStep(int stepsDone, int evaluateEvery, int totalSteps) =>
        stepsDone % evaluateEvery == 0 || stepsDone == totalSteps;

    /// <summary>Keeps a copy of the model's parameters when this is the first evaluation or its score beats the
    /// best so far (ties keep the earlier one); true when it did.</summary>
    public bool Offer(nn.Module model, double score)
    {
        if (best is not null && !(score > Score)) return false;
        Score = score;
        DisposeCopy();
        best = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
        return true;
    }

    /// <summary>Loads the kept parameters back into the model (nothing when there was no evaluation).</summary>
    public void Restore(nn.Module model)
    {
        if (best is null) return;
        model.load_state_dict(best);
        DisposeCopy();
    }

    void DisposeCopy()
    {
        foreach (var t in best?.Values ?? Enumerable.Empty<Tensor>()) t.Dispose();
        best = null;
    }

    public void Dispose() => DisposeCopy();
}
