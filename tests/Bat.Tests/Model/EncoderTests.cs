using Bat.Experiments;
using Bat.Model;
using Bat.Pretraining;
using static TorchSharp.torch;

namespace Bat.Tests.Model;

public class EncoderTests
{
    // Hand count for ViT-B/16 (D 768, MLP 3072, 12 blocks):
    //   patch embed  1*768*16*16 + 768                                   =    197,376
    //   CLS 768, pre-LayerNorm 2*768                                      =      2,304
    //   per block: qkv 768*2304+2304 = 1,771,776; proj 768*768+768 = 590,592;
    //              fc1 768*3072+3072 = 2,362,368; fc2 3072*768+768 = 2,360,064; 2 LayerNorms 3,072
    //              = 7,087,872, x 12                                      = 85,054,464
    //   EAT encoder                                                       = 85,254,144
    //   EAT CNN decoder: 6 x (768*48*9 + 768) = 1,995,264; Linear 590,592 =  2,585,856
    //   EAT encoder + decoder (the "88M" of the paper)                    = 87,840,000
    //   BAT gate per block 768*768 + 768 = 590,592, x 12 = 7,087,104
    //   BAT (gated) encoder                                               = 92,341,248
    [Fact]
    public void BaseParameterCountsMatchTheHandCount()
    {
        using var eat = new Encoder(EncoderConfig.Base);
        Assert.Equal(85_254_144, eat.ParameterCount());
        using var cnn = DecoderConfig.Create(new DecoderConfig { Kind = DecoderKind.Cnn }, EncoderConfig.Base);
        Assert.Equal(2_585_856, cnn.ParameterCount());
        Assert.Equal(87_840_000, eat.ParameterCount() + cnn.ParameterCount());
        using var bat = new Encoder(EncoderConfig.Base with { Gated = true });
        Assert.Equal(92_341_248, bat.ParameterCount());
    }

    [Fact]
    public void BaseForwardOnOneClipRuns()
    {
        using var scope = NewDisposeScope();
        using var encoder = new Encoder(EncoderConfig.Base with { Gated = true });
        encoder.eval();
        using var _ = no_grad();
        using var output = encoder.Forward(randn(1, 1, 1024, 128));
        Assert.Equal(12, output.Layers.Count);
        Assert.Equal(new long[] { 1, 513, 768 }, output.Last.shape);
        Assert.False(output.Last.isnan().any().item<bool>());
    }

    [Fact]
    public void TinyForwardReturnsLayersFfnAndAttentionWithShapes()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var encoder = new Encoder(EncoderConfig.Tiny);
        var x = randn(2, 1, 512, 64);
        using var full = encoder.Forward(x, returnFfn: true, returnAttention: true);
        Assert.Equal(4, full.Layers.Count);
        Assert.Equal(new long[] { 2, 129, 192 }, full.Layers[0].shape);
        Assert.Equal(new long[] { 2, 129, 192 }, full.FfnOutputs![3].shape);
        Assert.Equal(new long[] { 2, 3, 129, 129 }, full.Attention![0].shape);
        // Attention rows are probability distributions.
        Assert.True(full.Attention[2].sum(-1).sub(1).abs().max().item<float>() < 1e-5);

        // Kept tokens with 3 clones: (B*3, 1+K, D).
        var keep = arange(10, dtype: ScalarType.Int64).unsqueeze(0).repeat(6, 1);
        using var masked = encoder.Forward(x, keep, clones: 3);
        Assert.Equal(new long[] { 6, 11, 192 }, masked.Last.shape);
    }

    [Fact]
    public void FusedAndExplicitAttentionAgree()
    {
        using var scope = NewDisposeScope();
        var encoder = new Encoder(EncoderConfig.Tiny with { Gated = true });
        var x = randn(1, 1, 256, 64);
        using var a = encoder.Forward(x);
        using var b = encoder.Forward(x, returnAttention: true);
        Assert.True(a.Last.sub(b.Last).abs().max().item<float>() < 1e-4);
    }

    [Fact]
    public void TokensAreTimeMajor()
    {
        using var scope = NewDisposeScope();
        var encoder = new Encoder(EncoderConfig.Tiny);
        var x = zeros(1, 1, 512, 64);
        var before = encoder.PatchTokens(x);
        // Perturb the patch at time patch 3, frequency patch 2 (frames 48..63, mel 32..47): only token 3*4+2 moves.
        x[0, 0, 50, 40] = tensor(5f);
        var changed = encoder.PatchTokens(x).sub(before).abs().sum(-1)[0].gt(0).nonzero().flatten();
        Assert.Equal(new long[] { 14 }, changed.data<long>().ToArray());
    }

    [Fact]
    public void SinCosTableFollowsTheClosedForm()
    {
        using var table = Encoder.SinCos2d(4, 3, 8); // quarter = 2, w = [1, 1/100]
        var v = table[2, 1].data<float>().ToArray();
        double[] expected = [Math.Sin(2), Math.Sin(0.02), Math.Cos(2), Math.Cos(0.02), Math.Sin(1), Math.Sin(0.01), Math.Cos(1), Math.Cos(0.01)];
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], v[i], 5);
    }

    [Fact]
    public void VitDecoderPositionsStartAsTheSinCosTableAndAreTrained()
    {
        // The official ViT_MaskedDecoder: pos_embed = get_2d_sincos_pos_embed_flexible at the decoder width,
        // requires_grad=True; in_proj without bias. Width 8 (quarter 2, w = [1, 1/100]), grid 4 x 3; cell t = 2, f = 1.
        var encoder = EncoderConfig.Tiny with { Frames = 64, MelBins = 48 };
        using var decoder = DecoderConfig.Create(Preset.Tiny.VitDecoder with { Dim = 8, Heads = 2 }, encoder);
        var parameters = decoder.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var table = parameters["pos_embed"];
        Assert.True(table.requires_grad);
        Assert.Equal(new long[] { 1, 12, 8 }, table.shape);
        var v = table[0, 2 * 3 + 1].data<float>().ToArray();
        double[] expected = [Math.Sin(2), Math.Sin(0.02), Math.Cos(2), Math.Cos(0.02), Math.Sin(1), Math.Sin(0.01), Math.Cos(1), Math.Cos(0.01)];
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], v[i], 5);
        Assert.DoesNotContain(parameters.Keys, name => name.StartsWith("input_proj.") && name.EndsWith("bias"));
        Assert.Contains("input_proj.weight", parameters.Keys);
    }

    [Fact]
    public void DecodersMapKeptTokensToTheFullGrid()
    {
        using var scope = NewDisposeScope();
        var config = EncoderConfig.Tiny;
        var visible = randn(4, 25, 192);
        var keep = stack(Enumerable.Range(0, 4).Select(i => randperm(128)[..25]).ToArray());
        foreach (var kind in new[] { DecoderKind.Cnn, DecoderKind.Vit })
        {
            using var decoder = DecoderConfig.Create(Preset.Tiny.VitDecoder with { Kind = kind }, config);
            var y = decoder.Decode(visible, keep, null);
            Assert.Equal(new long[] { 4, 128, 192 }, y.shape);
        }
    }
}
