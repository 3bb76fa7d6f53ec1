using static TorchSharp.torch;
using static Bat.KeptScalars;

namespace Bat.Pretraining;

/// <summary>
/// A research lever outside both papers (docs/method.md section 7): every masked clone of a clip gets its own view,
/// the clip with another clip of the batch mixed in as background, in the power domain (BYOL-A's mixup, Niizumi et
/// al., 2021, on the normalised log-mel): view = log((1 - lambda) exp(x) + lambda exp(x_other)), lambda drawn per
/// clone from U(0, ratio). The teacher keeps the clean clip, so the student must predict the clip's targets through a
/// background that changes from clone to clone: what stays the same across the views (the clip's content) is what
/// pays, not what a background also has (the position table, the shared spectrum).
/// </summary>
public static class CloneMixing
{
    /// <summary>The views (B*C, 1, T, M) for clips x (B, 1, T, M): row s is clip s / C mixed with clip other[s] at weight lambda[s].</summary>
    public static Tensor Mix(Tensor x, int clones, IReadOnlyList<long> other, IReadOnlyList<double> lambda)
    {
        long rows = x.shape[0] * clones;
        if (other.Count != rows || lambda.Count != rows)
            throw new BatException("clone mixing", $"{other.Count} partners and {lambda.Count} weights for {rows} clone rows");
        using var scope = NewDisposeScope();
        var clean = x.repeat_interleave(clones, dim: 0);                               // (B, 1, T, M) -> (S, 1, T, M)
        var background = x.index_select(0, tensor(other.ToArray(), device: x.device));   // (S, 1, T, M)
        var weight = tensor(lambda.ToArray(), device: x.device).to_type(x.dtype).reshape(rows, 1, 1, 1);
        // log((1 - l) e^x + l e^y) = logaddexp(x + log(1 - l), y + log l); lambda 0 gives log 0 = -inf, and x back.
        return clean.add(weight.neg().log1p(), One).logaddexp(background.add(weight.log(), One)).MoveToOuterDisposeScope();
    }

    /// <summary>Random partners (another clip of the batch, never the clip itself) and weights U(0, ratio) for each clone row.</summary>
    public static (long[] Other, double[] Lambda) Draw(int clips, int clones, double ratio, Random random)
    {
        if (clips < 2) throw new BatException("clone mixing", "needs a batch of at least 2 clips");
        int rows = clips * clones;
        var other = new long[rows];
        var lambda = new double[rows];
        for (int s = 0; s < rows; s++)
        {
            int clip = s / clones;
            other[s] = (clip + 1 + random.Next(clips - 1)) % clips;
            lambda[s] = random.NextDouble() * ratio;
        }
        return (other, lambda);
    }
}
