using Bat.Model;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// How the official ViT encodes an input longer than its pre-training grid (houtan-ghaffari/BAT_ICML2026
/// models/vit.py extract_features_with_patch_tokens, which DCASE 2016 task 2's 120 s clips need): the patch tokens
/// are split into chunks of the pre-training number of time patches (torch.split(x, 64, dim=1): 1024 frames), each
/// chunk gets its own CLS and the position table from its start and runs through the blocks alone; per block, the
/// chunks' patch tokens are joined along time and their CLS tokens averaged. An input within one chunk is encoded
/// as is. Used for sound event detection tasks (<see cref="ProbeExperiment.Embed"/>); the other tasks' official
/// inputs fit one chunk.
/// </summary>
public static class ChunkedEncoding
{
    /// <summary>
    /// Every block's tokens (B, 1 + N, D) of <paramref name="features"/> (B, 1, T, M), encoded in chunks of
    /// <paramref name="chunkFrames"/> frames (the last chunk may be shorter); token 0 is the chunks' mean CLS and the
    /// patch tokens stay time-major. The tensors belong to the caller's dispose scope.
    /// </summary>
    public static IReadOnlyList<Tensor> Layers(Encoder encoder, Tensor features, int chunkFrames)
    {
        long frames = features.shape[2];
        if (chunkFrames < encoder.Config.PatchSize || chunkFrames % encoder.Config.PatchSize != 0)
            throw new ArgumentException($"chunk of {chunkFrames} frames is not a whole number of {encoder.Config.PatchSize}-frame patches");
        if (frames <= chunkFrames) return encoder.Forward(features).Layers;
        var chunks = new List<IReadOnlyList<Tensor>>();
        for (long start = 0; start < frames; start += chunkFrames)
            chunks.Add(encoder.Forward(features.narrow(2, start, Math.Min(chunkFrames, frames - start))).Layers);   // (B, 1 + n_i, D) per block
        var layers = new List<Tensor>();
        for (int l = 0; l < chunks[0].Count; l++)
        {
            using var scope = NewDisposeScope();
            var cls = stack(chunks.Select(c => c[l].narrow(1, 0, 1)).ToList(), 0).mean(new long[] { 0 });   // (chunks, B, 1, D) -> (B, 1, D)
            var patches = chunks.Select(c => c[l].narrow(1, 1, c[l].shape[1] - 1));                            // (B, n_i, D)
            layers.Add(cat([cls, .. patches], 1).MoveToOuterDisposeScope());                                   // (B, 1 + N, D)
        }
        foreach (var t in chunks.SelectMany(c => c)) t.Dispose();
        return layers;
    }
}
