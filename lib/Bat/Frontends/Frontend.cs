using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Frontends;

/// <summary>Maps a batch of 16 kHz mono waveforms (B, samples) float32 to features (B, 1, T, MelBins).</summary>
public interface IFrontend
{
    FrontendConfig Config { get; }
    Tensor Compute(Tensor waveforms);
}

public static class Frontend
{
    public static IFrontend Create(FrontendConfig config) => config.Kind switch
    {
        FrontendConfig.Bat => new BatFrontend(config),
        FrontendConfig.Kaldi or FrontendConfig.KaldiBeats => new KaldiFrontend(config),
        _ => throw new ArgumentException($"unknown frontend kind '{config.Kind}' (expected {string.Join(", ", FrontendConfig.Kinds)})"),
    };

    /// <summary>The fewest 16 kHz samples a clip needs: one 25 ms frame (kaldi kinds), more than half an FFT (bat, reflect padding).</summary>
    public static int MinSamples(FrontendConfig config) =>
        config.Kind == FrontendConfig.Bat ? BatFrontend.NFft / 2 + 1 : KaldiFrontend.FrameLength;

    /// <summary>
    /// Frames the frontend makes of <paramref name="samples"/> 16 kHz samples: 1 + samples / 160 for "bat" (centred
    /// STFT), 1 + (samples - 400) / 160 for the kaldi kinds (whole 25 ms frames only; 0 when shorter).
    /// </summary>
    public static int FrameCount(string kind, int samples) =>
        kind == FrontendConfig.Bat ? 1 + samples / BatFrontend.Hop
        : samples < KaldiFrontend.FrameLength ? 0 : 1 + (samples - KaldiFrontend.FrameLength) / KaldiFrontend.FrameShift;

    /// <summary>Throws a <see cref="BatException"/> naming the clip's file when it is too short for the frontend.</summary>
    public static void CheckLength(Bat.Audio.AudioClip clip, FrontendConfig config)
    {
        int min = MinSamples(config);
        if (clip.Samples.Length < min)
            throw new BatException(clip.Source, $"the clip is {clip.Samples.Length} samples ({1000.0 * clip.Samples.Length / clip.SampleRate:0.#} ms) at " +
                                                $"{clip.SampleRate} Hz, shorter than the {min} samples ({1000.0 * min / FrontendConfig.SampleRate:0.#} ms) the {config.Kind} frontend needs");
    }

    /// <summary>(samples) or (B, samples) -> (B, samples) float64, the precision the frontends compute in.</summary>
    internal static Tensor AsBatch(Tensor waveforms)
    {
        if (waveforms.dim() is not (1 or 2))
            throw new ArgumentException($"waveforms must be (samples) or (batch, samples), got ({string.Join(", ", waveforms.shape)})");
        var x = waveforms.dim() == 1 ? waveforms.unsqueeze(0) : waveforms;
        return x.to_type(ScalarType.Float64);
    }

    /// <summary>Zero-pads or crops (B, T, M) along time to <paramref name="target"/> frames (null: unchanged).</summary>
    internal static Tensor PadOrCrop(Tensor x, int? target)
    {
        if (target is not int t) return x;
        long frames = x.shape[1];
        if (frames == t) return x;
        return frames < t ? nn.functional.pad(x, [0, 0, 0, t - frames]) : x[.., ..t, ..];
    }

    /// <summary>A (B, samples) batch from clips of possibly different lengths, zero-padded at the end.</summary>
    public static Tensor Stack(IReadOnlyList<float[]> clips)
    {
        int longest = clips.Count == 0 ? 0 : clips.Max(c => c.Length);
        var data = new float[clips.Count * longest];
        for (int i = 0; i < clips.Count; i++) clips[i].CopyTo(data, i * longest);
        return tensor(data, [clips.Count, longest]);
    }
}
