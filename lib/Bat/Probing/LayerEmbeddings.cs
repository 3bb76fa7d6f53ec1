using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// What a frozen encoder hands a probe: every block's CLS token and patch tokens.
/// Cls (B, L, D); Patches (B, L, N, D). Layer index 0 is the first block, L - 1 the last.
/// </summary>
public sealed record LayerEmbeddings(Tensor Cls, Tensor Patches)
{
    public int Layers => (int)Cls.shape[1];
    public int Dim => (int)Cls.shape[2];

    /// <summary>
    /// Every layer's patch tokens averaged over the frequency patches: (B, L, N, D) -> (B, L, T, D), the input of the
    /// official frame-wise heads (x.mean(dim=4) of their (L, B, D, T, F)). The tokens are time-major (t * F + f).
    /// </summary>
    public Tensor FrameMeans(int freqPatches)
    {
        long b = Patches.shape[0], l = Patches.shape[1], n = Patches.shape[2], d = Patches.shape[3];
        if (freqPatches < 1 || n % freqPatches != 0)
            throw new ArgumentException($"{n} patch tokens are not a whole number of time patches of {freqPatches} frequency patches");
        return Patches.view(b, l, n / freqPatches, freqPatches, d).mean(new long[] { 3 });   // (B, L, T, F, D) -> (B, L, T, D)
    }

    /// <summary>Splits encoder outputs (one (B, 1+N, D) tensor per block, token 0 = CLS) into CLS and patches.</summary>
    public static LayerEmbeddings FromBlockOutputs(IReadOnlyList<Tensor> blocks)
    {
        using var stacked = stack(blocks, dim: 1);                 // L x (B, 1+N, D) -> (B, L, 1+N, D)
        var cls = stacked.select(2, 0);                              // (B, L, D)
        var patches = stacked.narrow(2, 1, stacked.shape[2] - 1);    // (B, L, N, D)
        return new LayerEmbeddings(cls.contiguous(), patches.contiguous());
    }
}
