using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using static Bat.KeptScalars;

namespace Bat.Model;

/// <summary>The pre-training decoder: EAT's lightweight 2-D CNN or BAT's transformer (JSON "cnn" | "vit").</summary>
public enum DecoderKind { Cnn, Vit }

/// <summary>
/// The pre-training decoder (docs/method.md section 3): <see cref="DecoderKind.Cnn"/> = EAT's lightweight 2-D CNN,
/// <see cref="DecoderKind.Vit"/> = BAT's transformer decoder. Dim/Heads/MlpRatio/Gated only apply to the ViT;
/// Groups/Kernel only to the CNN. Saved in config.json.
/// </summary>
public sealed record DecoderConfig
{
    public DecoderKind Kind { get; init; } = DecoderKind.Cnn;
    /// <summary>Layers: 6 in both papers.</summary>
    public int Depth { get; init; } = 6;
    /// <summary>ViT decoder width; 0 = the encoder width (the paper's base uses 768 = D).</summary>
    public int Dim { get; init; }
    public int Heads { get; init; } = 12;
    public int MlpRatio { get; init; } = 4;
    public bool Gated { get; init; } = true;
    /// <summary>CNN decoder: grouped 3x3 convolutions with 16 groups (EAT).</summary>
    public int Groups { get; init; } = 16;
    public int Kernel { get; init; } = 3;
    /// <summary>CNN decoder: std of the noise that stands in for masked tokens (EAT: 0.01).</summary>
    public double MaskNoiseStd { get; init; } = 0.01;

    public static Decoder Create(DecoderConfig config, EncoderConfig encoder) => config.Kind switch
    {
        DecoderKind.Cnn => new CnnDecoder(config, encoder),
        DecoderKind.Vit => new VitDecoder(config, encoder),
        _ => throw new BatException("decoder", $"unknown decoder {config.Kind} (expected cnn|vit)"),
    };
}

/// <summary>Maps the student's kept tokens back to a full grid of predictions for the teacher targets.</summary>
public abstract class Decoder : Module
{
    protected Decoder(string name) : base(name) { }

    /// <summary>visible (S, K, D) at positions keep (S, K) -> predictions (S, N, D) for every grid cell.</summary>
    public abstract Tensor Decode(Tensor visible, Tensor keep, Generator? rng);

    /// <summary>Writes visible rows into a full (S, N, C) sequence at their grid positions ("unshuffle").</summary>
    protected static Tensor Unshuffle(Tensor filler, Tensor visible, Tensor keep) =>
        filler.scatter(1, keep.unsqueeze(-1).expand(-1, -1, visible.shape[2]), visible);

    public long ParameterCount() => parameters().Sum(p => p.numel());
}

/// <summary>EAT: 6 x [grouped Conv2d 3x3 -> LayerNorm over channels (no affine) -> GELU] with residuals, then Linear.</summary>
public sealed class CnnDecoder : Decoder
{
    readonly int gridTime, gridFreq, dim;
    readonly double noiseStd;
    readonly ModuleList<Conv2d> convs;
    readonly Linear proj;

    public CnnDecoder(DecoderConfig config, EncoderConfig encoder) : base(nameof(CnnDecoder))
    {
        (gridTime, gridFreq, dim, noiseStd) = (encoder.GridTime, encoder.GridFreq, encoder.Dim, config.MaskNoiseStd);
        if (dim % config.Groups != 0) throw new BatException("decoder", $"encoder dim {dim} is not divisible by {config.Groups} groups");
        convs = new ModuleList<Conv2d>(Enumerable.Range(0, config.Depth)
            .Select(_ => Conv2d(dim, dim, config.Kernel, padding: config.Kernel / 2, groups: config.Groups)).ToArray());
        proj = Linear(dim, dim);
        RegisterComponents();
        Encoder.InitLinears(this);
    }

    public override Tensor Decode(Tensor visible, Tensor keep, Generator? rng)
    {
        long s = visible.shape[0];
        // Masked cells get small noise, not a learned token (EAT): (S, N, D)
        using Scalar std = noiseStd;   // kept alive for the call: see ScalarLifetimeGuardTests
        var noise = randn([s, gridTime * gridFreq, dim], generator: rng, device: visible.device).mul_(std);
        var x = Unshuffle(noise, visible, keep);
        x = x.view(s, gridTime, gridFreq, dim).permute(0, 3, 1, 2); // (S, N, D) -> (S, D, T', F')
        foreach (var conv in convs)
        {
            var y = conv.forward(x).permute(0, 2, 3, 1);              // channels last for the LayerNorm
            y = functional.gelu(functional.layer_norm(y, [dim], eps: 1e-5)).permute(0, 3, 1, 2);
            x = x.add(y, One);                                         // residual on the grid
        }
        x = x.permute(0, 2, 3, 1).reshape(s, gridTime * gridFreq, dim); // back to time-major tokens
        return proj.forward(x);
    }
}

/// <summary>BAT: bias-free Linear in, learned mask token, a trainable position table that starts as the encoder's 2-D
/// sin-cos table at the decoder's width (the official ViT_MaskedDecoder), gated post-norm blocks, bias-free Linear out.</summary>
public sealed class VitDecoder : Decoder
{
    readonly Module<Tensor, Tensor> input_proj;
    readonly Parameter mask_token, pos_embed;
    readonly ModuleList<Block> blocks;
    readonly Linear output_proj;

    public VitDecoder(DecoderConfig config, EncoderConfig encoder) : base(nameof(VitDecoder))
    {
        int width = config.Dim == 0 ? encoder.Dim : config.Dim;
        if (width % config.Heads != 0) throw new BatException("decoder", $"decoder dim {width} is not divisible by {config.Heads} heads");
        input_proj = width == encoder.Dim ? Identity() : Linear(encoder.Dim, width, hasBias: false);
        mask_token = Parameter(zeros(1, 1, width));
        // As the official decoder: the table starts as sin-cos (measured at 600 updates on real audio, docs/method.md
        // section 7, it moves neither the content error nor the probes outside the seeds' spread).
        using (var table = Encoder.SinCos2d(encoder.GridTime, encoder.GridFreq, width))
            pos_embed = Parameter(table.reshape(1, encoder.NumPatches, width));   // (T', F', W) -> (1, N, W), token = t F' + f
        blocks = new ModuleList<Block>(Enumerable.Range(0, config.Depth)
            .Select(_ => new Block(width, config.Heads, config.MlpRatio, config.Gated, encoder.LayerNormEps)).ToArray());
        output_proj = Linear(width, encoder.Dim, hasBias: false);
        RegisterComponents();
        Encoder.InitLinears(this);
        using var _ = no_grad();
        init.normal_(mask_token, 0, 0.02);
    }

    public override Tensor Decode(Tensor visible, Tensor keep, Generator? rng)
    {
        var v = input_proj.forward(visible);                                    // (S, K, D) -> (S, K, W)
        var x = Unshuffle(mask_token.expand(v.shape[0], pos_embed.shape[1], v.shape[2]), v, keep); // (S, N, W)
        x = x.add(pos_embed, One);
        foreach (var block in blocks) x = block.Run(x, false).Output;
        return output_proj.forward(x);                                          // (S, N, W) -> (S, N, D)
    }
}
