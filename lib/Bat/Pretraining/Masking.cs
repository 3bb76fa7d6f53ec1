using static TorchSharp.torch;

namespace Bat.Pretraining;

/// <summary>
/// Inverse block masking on a (time x frequency) patch grid (data2vec 2.0 / EAT, docs/method.md section 3):
/// Keep = int(N * keepRatio) cells are kept, Centres = floor(N * (keepRatio + adjust) / block^2) block centres
/// are drawn uniformly; each marks a block x block neighbourhood clamped to the grid as kept; then extras are
/// dropped at random (or random cells added) so exactly Keep cells are kept. For the 64 x 8 base grid:
/// Keep = int(102.4) = 102, Centres = floor(512 * 0.27 / 25) = floor(5.53) = 5. For the 32 x 4 tiny grid:
/// Keep = 25, Centres = 1.
/// </summary>
public sealed record MaskSpec(int GridTime, int GridFreq, double KeepRatio = 0.2, int Block = 5, double CentreAdjust = 0.07)
{
    public int Cells => GridTime * GridFreq;
    public int Keep => (int)(Cells * KeepRatio);
    public int Centres => (int)Math.Floor(Cells * (KeepRatio + CentreAdjust) / (Block * Block));
    public int Masked => Cells - Keep;

    public static MaskSpec For(PretrainConfig c) =>
        new(c.Encoder.GridTime, c.Encoder.GridFreq, c.KeepRatio, c.MaskBlock, c.CentreAdjust);
}

public static class InverseBlockMask
{
    /// <summary>Marks the clamped block around each (t, f) centre; cell index = t * GridFreq + f (time-major).</summary>
    public static bool[] MarkBlocks(MaskSpec spec, IEnumerable<(int T, int F)> centres)
    {
        var kept = new bool[spec.Cells];
        int lo = -(spec.Block / 2), hi = lo + spec.Block; // 5 -> offsets -2..2
        foreach (var (ct, cf) in centres)
            for (int t = Math.Max(0, ct + lo); t < Math.Min(spec.GridTime, ct + hi); t++)
            for (int f = Math.Max(0, cf + lo); f < Math.Min(spec.GridFreq, cf + hi); f++)
                kept[t * spec.GridFreq + f] = true;
        return kept;
    }

    /// <summary>One mask: the kept cell indices, sorted ascending, exactly spec.Keep of them.</summary>
    public static int[] Sample(MaskSpec spec, Random rng)
    {
        var centres = Enumerable.Range(0, spec.Centres).Select(_ => (rng.Next(spec.GridTime), rng.Next(spec.GridFreq))).ToArray();
        var marked = MarkBlocks(spec, centres);
        var kept = Enumerable.Range(0, spec.Cells).Where(i => marked[i]).ToArray();
        if (kept.Length > spec.Keep)
        {
            rng.Shuffle(kept);                         // drop the extras at random
            kept = kept[..spec.Keep];
        }
        else if (kept.Length < spec.Keep)
        {
            var free = Enumerable.Range(0, spec.Cells).Where(i => !marked[i]).ToArray();
            rng.Shuffle(free);                         // add random cells until exactly Keep
            kept = [.. kept, .. free[..(spec.Keep - kept.Length)]];
        }
        Array.Sort(kept);
        return kept;
    }

    /// <summary>Masks for a batch: keep (rows, Keep) and its complement masked (rows, Masked), int64.</summary>
    public static (Tensor Keep, Tensor Masked) Batch(MaskSpec spec, int rows, Random rng, Device? device = null)
    {
        var keep = new long[rows * spec.Keep];
        var masked = new long[rows * spec.Masked];
        for (int r = 0; r < rows; r++)
        {
            var k = Sample(spec, rng);
            var isKept = new bool[spec.Cells];
            foreach (var i in k) isKept[i] = true;
            for (int i = 0; i < k.Length; i++) keep[r * spec.Keep + i] = k[i];
            int m = 0;
            for (int i = 0; i < spec.Cells; i++) if (!isKept[i]) masked[r * spec.Masked + m++] = i;
        }
        return (tensor(keep, rows, spec.Keep).to(device ?? CPU), tensor(masked, rows, spec.Masked).to(device ?? CPU));
    }
}
