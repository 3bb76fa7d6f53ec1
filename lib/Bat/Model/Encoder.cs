using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using static Bat.KeptScalars;

namespace Bat.Model;

/// <summary>
/// Shape of the audio ViT (data2vec 2.0 / EAT / BAT, docs/method.md section 2). Immutable; saved as JSON next to
/// every checkpoint so an encoder can always be rebuilt from its run folder.
/// </summary>
public sealed record EncoderConfig
{
    /// <summary>Mel bins of the input features (frequency axis, the last input dimension).</summary>
    public int MelBins { get; init; } = 128;
    /// <summary>Frames of a training clip (10 ms hop: 1024 = 10.24 s). Shorter or longer inputs work at inference.</summary>
    public int Frames { get; init; } = 1024;
    /// <summary>Square patch side; the patch embedding is Conv2d(1, D, k, stride k).</summary>
    public int PatchSize { get; init; } = 16;
    /// <summary>Token width D.</summary>
    public int Dim { get; init; } = 768;
    /// <summary>Number of transformer blocks (= number of layers the probes see).</summary>
    public int Depth { get; init; } = 12;
    public int Heads { get; init; } = 12;
    /// <summary>MLP hidden width = MlpRatio * D.</summary>
    public int MlpRatio { get; init; } = 4;
    /// <summary>BAT gated attention: attention output times sigmoid(Linear(block input)). Off = EAT.</summary>
    public bool Gated { get; init; }
    /// <summary>data2vec 2.0 uses 1e-6 in every LayerNorm of the encoder.</summary>
    public double LayerNormEps { get; init; } = 1e-6;
    /// <summary>
    /// Factor on the fixed sin-cos position table (1 in the papers). Below 1 the position signal no longer drowns
    /// the patch embedding's output in a small, young encoder (the collapse check of notebook 02 measures it).
    /// </summary>
    public double PositionScale { get; init; } = 1.0;
    /// <summary>Time patches covered by the fixed position table (sliced per input): 512 = 81.92 s.</summary>
    public int MaxTimePatches { get; init; } = 512;

    [JsonIgnore] public int GridTime => Frames / PatchSize;
    [JsonIgnore] public int GridFreq => MelBins / PatchSize;
    [JsonIgnore] public int NumPatches => GridTime * GridFreq;

    /// <summary>CPU / CI size: 64 mel x 512 frames -> 32 x 4 = 128 patches, D 192, depth 4, 3 heads.</summary>
    public static EncoderConfig Tiny => new() { MelBins = 64, Frames = 512, Dim = 192, Depth = 4, Heads = 3 };
    /// <summary>ViT-S-like: 128 mel x 512 frames -> 32 x 8 = 256 patches, D 384, depth 6, 6 heads.</summary>
    public static EncoderConfig Small => new() { MelBins = 128, Frames = 512, Dim = 384, Depth = 6, Heads = 6 };
    /// <summary>The paper's ViT-B/16: 128 mel x 1024 frames -> 64 x 8 = 512 patches, D 768, depth 12, 12 heads.</summary>
    public static EncoderConfig Base => new();

    public void Validate()
    {
        // Upper bounds far above the paper's ViT-B, so an edited config.json cannot ask for terabytes.
        if (MelBins is < 1 or > 1024 || Frames is < 1 or > 65536 || Dim is < 1 or > 4096 || Depth is < 1 or > 64
            || Heads is < 1 or > 256 || MlpRatio is < 1 or > 16 || MaxTimePatches is < 1 or > 65536 || !(LayerNormEps > 0))
            throw new BatException("encoder config", $"a size is out of range (mel bins {MelBins}, frames {Frames}, dim {Dim}, depth {Depth}, heads {Heads}, " +
                                                     $"MLP ratio {MlpRatio}, max time patches {MaxTimePatches}, LayerNorm eps {LayerNormEps})");
        if (PatchSize <= 0 || Frames % PatchSize != 0 || MelBins % PatchSize != 0)
            throw new BatException("encoder config", $"frames {Frames} and mel bins {MelBins} must be multiples of the patch size {PatchSize}");
        if (Dim % Heads != 0) throw new BatException("encoder config", $"dim {Dim} is not divisible by heads {Heads}");
        if (Dim % 4 != 0) throw new BatException("encoder config", $"dim {Dim} must be a multiple of 4 for the 2-D sin-cos position");
        if (GridTime > MaxTimePatches) throw new BatException("encoder config", $"{GridTime} time patches exceed MaxTimePatches {MaxTimePatches}");
    }
}

/// <summary>
/// What one encoder pass returns. Layers[i] is block i's output (S, 1+N, D), CLS at token 0. FFN outputs (the
/// MLP output before residual and LayerNorm, EAT's targets) and attention maps (S, H, 1+N, 1+N) only on request.
/// </summary>
public sealed record EncoderOutput(IReadOnlyList<Tensor> Layers, IReadOnlyList<Tensor>? FfnOutputs, IReadOnlyList<Tensor>? Attention)
    : IDisposable
{
    public Tensor Last => Layers[^1];

    public void Dispose()
    {
        foreach (var t in Layers) t.Dispose();
        foreach (var t in FfnOutputs ?? []) t.Dispose();
        foreach (var t in Attention ?? []) t.Dispose();
    }
}

/// <summary>Multi-head self-attention with qkv bias and the optional BAT output gate.</summary>
public sealed class Attention : Module
{
    readonly int heads;
    readonly Linear qkv, proj;
    readonly Linear? gate;

    public Attention(int dim, int heads, bool gated) : base(nameof(Attention))
    {
        this.heads = heads;
        qkv = Linear(dim, 3 * dim);
        proj = Linear(dim, dim);
        gate = gated ? Linear(dim, dim) : null;
        RegisterComponents();
    }

    /// <summary>x (S, L, D) -> (S, L, D); weights (S, H, L, L) when asked.</summary>
    public (Tensor Output, Tensor? Weights) Run(Tensor x, bool returnWeights)
    {
        long s = x.shape[0], l = x.shape[1], d = x.shape[2];
        // (S, L, 3D) -> (3, S, H, L, D/H)
        var q_k_v = qkv.forward(x).view(s, l, 3, heads, d / heads).permute(2, 0, 3, 1, 4);
        Tensor q = q_k_v[0], k = q_k_v[1], v = q_k_v[2];
        Tensor? weights = null;
        Tensor y;
        if (returnWeights)
        {
            // The explicit form, because fused attention cannot hand back its probabilities.
            using Scalar scale = 1.0 / Math.Sqrt(d / heads);   // kept alive for the call: see ScalarLifetimeGuardTests
            weights = matmul(q, k.transpose(-2, -1)).mul(scale).softmax(-1);
            y = matmul(weights, v);
        }
        else y = functional.scaled_dot_product_attention(q, k, v);
        y = y.transpose(1, 2).reshape(s, l, d); // (S, H, L, D/H) -> (S, L, D)
        // BAT: gate each channel of the attention output by the block input before mixing the heads.
        if (gate is not null) y = y.mul(functional.sigmoid(gate.forward(x)));
        return (proj.forward(y), weights);
    }
}

/// <summary>Post-norm transformer block: x = LN1(x + Attn(x)); x = LN2(x + MLP(x)).</summary>
public sealed class Block : Module
{
    readonly Attention attn;
    readonly LayerNorm norm1, norm2;
    readonly Linear fc1, fc2;

    public Block(int dim, int heads, int mlpRatio, bool gated, double eps) : base(nameof(Block))
    {
        attn = new Attention(dim, heads, gated);
        norm1 = LayerNorm(dim, eps);
        fc1 = Linear(dim, mlpRatio * dim);
        fc2 = Linear(mlpRatio * dim, dim);
        norm2 = LayerNorm(dim, eps);
        RegisterComponents();
    }

    /// <summary>
    /// Stochastic depth (fine-tuning): in training mode each sample's attention and MLP branches are dropped with
    /// this probability before their residual sum, and kept ones scaled by 1 / (1 - p) (timm's DropPath). 0 = off.
    /// </summary>
    public double DropPath { get; set; }

    /// <summary>(S, L, D) -> block output, FFN output (before residual/LN), attention weights if asked.</summary>
    public (Tensor Output, Tensor Ffn, Tensor? Weights) Run(Tensor x, bool returnWeights)
    {
        var (a, w) = attn.Run(x, returnWeights);
        x = norm1.forward(x.add(DropBranch(a), One));
        var ffn = fc2.forward(functional.gelu(fc1.forward(x)));
        return (norm2.forward(x.add(DropBranch(ffn), One)), ffn, w);
    }

    /// <summary>branch (S, L, D) times a per-sample mask (S, 1, 1) of Bernoulli(1 - p) / (1 - p); the branch itself when off.</summary>
    Tensor DropBranch(Tensor branch)
    {
        if (!training || DropPath <= 0) return branch;
        double keep = 1 - DropPath;
        using Scalar keepScalar = keep;   // kept alive for the call: see ScalarLifetimeGuardTests
        var mask = empty(new long[] { branch.shape[0], 1, 1 }, branch.dtype, branch.device).bernoulli_(keep).div_(keepScalar);
        return branch.mul(mask);
    }
}

/// <summary>How Linear weights start (JSON "bert" | "xavier"): N(0, 0.02) as in EAT's data2vec 2.0 code
/// (init_bert_params), or xavier_uniform as in BAT's official code (MLR_Student._init_weights).</summary>
public enum LinearInit { Bert, Xavier }

/// <summary>
/// The audio ViT: patch embedding on (time, mel), fixed 2-D sin-cos position, optional token dropping (the
/// masked student sees only kept tokens), CLS, a LayerNorm, then post-norm blocks without a final norm.
/// </summary>
public sealed class Encoder : Module
{
    public EncoderConfig Config { get; }
    readonly Conv2d patch_embed;
    readonly Parameter cls_token;
    readonly LayerNorm pre_norm;
    readonly ModuleList<Block> blocks;
    readonly Tensor pos_table; // (MaxTimePatches, GridFreq, D): a fixed buffer, never trained

    public Encoder(EncoderConfig config) : base(nameof(Encoder))
    {
        config.Validate();
        Config = config;
        int d = config.Dim;
        patch_embed = Conv2d(1, d, config.PatchSize, stride: config.PatchSize);
        cls_token = Parameter(randn(1, 1, d)); // N(0, 1) as in data2vec 2.0
        pre_norm = LayerNorm(d, config.LayerNormEps);
        blocks = new ModuleList<Block>(Enumerable.Range(0, config.Depth)
            .Select(_ => new Block(d, config.Heads, config.MlpRatio, config.Gated, config.LayerNormEps)).ToArray());
        using (var table = SinCos2d(config.MaxTimePatches, config.GridFreq, d))
        using (Scalar scale = config.PositionScale)   // kept alive for the call: see ScalarLifetimeGuardTests
            pos_table = table.mul(scale);
        RegisterComponents();
        InitLinears(this);
    }

    /// <summary>Every Linear with zero bias and weights N(0, 0.02) (<see cref="LinearInit.Bert"/>) or
    /// xavier_uniform (<see cref="LinearInit.Xavier"/>); LayerNorms keep (1, 0), convolutions PyTorch's default.</summary>
    public static void InitLinears(Module root, LinearInit kind = LinearInit.Bert)
    {
        using var _ = no_grad();
        foreach (var (_, m) in root.named_modules())
            if (m is Linear lin)
            {
                if (kind == LinearInit.Xavier) init.xavier_uniform_(lin.weight);
                else init.normal_(lin.weight, 0, 0.02);
                if (lin.bias is not null) init.zeros_(lin.bias);
            }
    }

    /// <summary>
    /// Fixed 2-D sin-cos table (T, F, D): the first D/2 channels encode the time index, the last D/2 the
    /// frequency index, each as [sin(p w_i), cos(p w_i)] with w_i = 10000^(-i / (D/4)), i &lt; D/4.
    /// </summary>
    internal static Tensor SinCos2d(int timePatches, int freqPatches, int dim)
    {
        int quarter = dim / 4;
        var table = new float[timePatches * freqPatches * dim];
        for (int t = 0; t < timePatches; t++)
        for (int f = 0; f < freqPatches; f++)
        {
            int at = (t * freqPatches + f) * dim;
            for (int i = 0; i < quarter; i++)
            {
                double w = Math.Pow(10000, -(double)i / quarter);
                table[at + i] = (float)Math.Sin(t * w);
                table[at + quarter + i] = (float)Math.Cos(t * w);
                table[at + 2 * quarter + i] = (float)Math.Sin(f * w);
                table[at + 3 * quarter + i] = (float)Math.Cos(f * w);
            }
        }
        return tensor(table, timePatches, freqPatches, dim);
    }

    /// <summary>Features (B, 1, T, M) -> patch tokens with position (B, N, D), N = (T/16)(M/16), token = t F + f.</summary>
    public Tensor PatchTokens(Tensor features)
    {
        if (features.dim() != 4 || features.shape[1] != 1 || features.shape[3] != Config.MelBins)
            throw new BatException("encoder input", $"expected features (B, 1, T, {Config.MelBins}), got ({string.Join(", ", features.shape)})");
        long gridTime = features.shape[2] / Config.PatchSize;
        if (gridTime < 1 || gridTime > Config.MaxTimePatches)
            throw new BatException("encoder input", $"{features.shape[2]} frames give {gridTime} time patches; need 1..{Config.MaxTimePatches}");
        var x = patch_embed.forward(features);         // (B, 1, T, M) -> (B, D, T/16, M/16)
        x = x.flatten(2).transpose(1, 2);              // -> (B, N, D), time-major
        var pos = pos_table[..(int)gridTime].reshape(1, -1, Config.Dim); // (1, N, D)
        return x.add(pos, One);
    }

    /// <summary>
    /// The forward pass. <paramref name="keep"/> (B*clones, K) lists the token indices each row keeps (the
    /// student of masked pre-training); patch embeddings are computed once per clip and repeated for the clones.
    /// </summary>
    public EncoderOutput Forward(Tensor features, Tensor? keep = null, int clones = 1, bool returnFfn = false, bool returnAttention = false)
    {
        var layers = new List<Tensor>();
        var ffns = returnFfn ? new List<Tensor>() : null;
        var maps = returnAttention ? new List<Tensor>() : null;
        Tensor x;
        using (var scope = NewDisposeScope())
        {
            x = PatchTokens(features);                                     // (B, N, D)
            if (clones > 1) x = x.repeat_interleave(clones, dim: 0);       // (B*C, N, D)
            if (keep is not null)                                           // -> (B*C, K, D)
                x = x.gather(1, keep.unsqueeze(-1).expand(-1, -1, Config.Dim));
            x = cat([cls_token.expand(x.shape[0], 1, Config.Dim), x], 1); // (S, 1+K, D): CLS has no position
            x = pre_norm.forward(x).MoveToOuterDisposeScope();
        }
        foreach (var block in blocks)
        {
            using var scope = NewDisposeScope(); // frees each block's temporaries as soon as it is done
            var (y, ffn, w) = block.Run(x, returnAttention);
            x = y.MoveToOuterDisposeScope();
            layers.Add(x);
            ffns?.Add(ffn.MoveToOuterDisposeScope());
            if (w is not null) maps!.Add(w.MoveToOuterDisposeScope());
        }
        return new EncoderOutput(layers, ffns, maps);
    }

    /// <summary>Drop path rising linearly from 0 at the first block to <paramref name="rate"/> at the last (torch.linspace(0, rate, depth)).</summary>
    public void SetDropPath(double rate)
    {
        for (int i = 0; i < blocks.Count; i++)
            blocks[i].DropPath = blocks.Count > 1 ? rate * i / (blocks.Count - 1) : 0;
    }

    /// <summary>Each block's drop path probability, first block first.</summary>
    public IReadOnlyList<double> DropPaths => blocks.Select(b => b.DropPath).ToList();

    public long ParameterCount() => parameters().Sum(p => p.numel());
}
