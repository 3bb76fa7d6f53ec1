using TorchSharp;
using static TorchSharp.torch;
using Module = TorchSharp.torch.nn.Module;

namespace Bat.Pretraining;

/// <summary>The EMA teacher update (data2vec 2.0 / EAT): teacher = d * teacher + (1 - d) * student.</summary>
public static class Ema
{
    /// <summary>
    /// Decay for the update that follows <paramref name="updatesDone"/> updates: linear from start to end over
    /// annealSteps updates, then constant at end (EAT: 0.9998 -> 0.99999 over 100k).
    /// </summary>
    public static double Decay(long updatesDone, double start, double end, long annealSteps) =>
        updatesDone >= annealSteps ? end : start + (end - start) * updatesDone / annealSteps;

    /// <summary>One EMA step over parameters; fixed buffers (the position table) are copied, not averaged.</summary>
    public static void Update(Module teacher, Module student, double decay)
    {
        using var _ = no_grad();
        using var keep = decay.ToScalar();
        using var take = (1 - decay).ToScalar();
        var source = student.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, t) in teacher.named_parameters())
            t.mul_(keep).add_(source[name], alpha: take);
        var buffers = student.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, t) in teacher.named_buffers())
            t.copy_(buffers[name]);
    }

    /// <summary>Makes the teacher an exact copy of the student and freezes it (no gradient ever reaches it).</summary>
    public static void Initialise(Module teacher, Module student)
    {
        Update(teacher, student, 0.0);
        foreach (var p in teacher.parameters()) p.requires_grad = false;
        teacher.eval();
    }
}
