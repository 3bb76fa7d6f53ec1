using Bat.Experiments;
using Bat.Model;

namespace Bat.Tests.Experiments;

/// <summary>Preset names are read in one place, and the ablation variants are built from a preset's configs.</summary>
public class PresetTests
{
    [Theory]
    [InlineData("smoke", "smoke")]
    [InlineData("Tiny", "tiny")]
    [InlineData(" SMALL ", "small")]
    [InlineData("base", "base")]
    public void Named_reads_any_letter_case(string name, string canonical) => Assert.Equal(canonical, Preset.Named(name).Name);

    [Fact]
    public void An_unknown_name_is_one_clear_error()
    {
        var e = Assert.Throws<BatException>(() => Preset.Named("huge"));
        Assert.Equal("preset: unknown preset 'huge' (expected smoke|tiny|small|base)", e.Message);
    }

    [Fact]
    public void The_presets_grow_from_smoke_to_base()
    {
        Assert.Equal(["smoke", "tiny", "small", "base"], Preset.Names);
        Assert.Equal(EncoderConfig.Tiny, Preset.Smoke.Encoder);   // smoke is tiny's model with a few steps
        Assert.True(Preset.Smoke.Pretraining.Steps < Preset.Tiny.Pretraining.Steps);
        Assert.Equal(10_000, Preset.Base.Prototypes);             // the paper's K
        Assert.Equal(Preset.Tiny.Prototypes, Preset.Tiny.KGrid[^1]);   // the sweep ends at the K the other probes use
        Assert.Equal(EncoderConfig.Base, Preset.Base.Encoder);
    }

    [Fact]
    public void WithInput_changes_the_input_only_and_refuses_one_the_patches_do_not_tile()
    {
        var paper = Preset.Tiny.WithInput(128, 256);
        Assert.Equal(EncoderConfig.Tiny with { MelBins = 128, Frames = 256 }, paper.Encoder);
        Assert.Equal(EncoderConfig.Tiny.NumPatches, paper.Encoder.NumPatches);   // 8 x 16 = 4 x 32: the same step cost
        Assert.Equal(Preset.Tiny with { Encoder = paper.Encoder }, paper);      // plan, schedules and K untouched
        Assert.Equal(Preset.Tiny, Preset.Tiny.WithInput(null, null));
        var e = Assert.Throws<BatException>(() => Preset.Tiny.WithInput(100, null));
        Assert.Equal("encoder config: frames 512 and mel bins 100 must be multiples of the patch size 16", e.Message);
    }

    [Fact]
    public void WithUpdates_changes_the_run_length_warmup_and_ema_anneal_only()
    {
        var longer = Preset.Tiny.WithUpdates(600);
        // The tiny plan is 200 updates, 20 of warm-up, the EMA annealed over all 200: the same proportions at 600.
        Assert.Equal((200, 20, 200), (Preset.Tiny.Pretraining.Steps, Preset.Tiny.Pretraining.WarmupSteps, Preset.Tiny.Pretraining.EmaAnnealSteps));
        Assert.Equal(Preset.Tiny.Pretraining with { Steps = 600, WarmupSteps = 60, EmaAnnealSteps = 600 }, longer.Pretraining);
        Assert.Equal(Preset.Tiny with { Pretraining = longer.Pretraining }, longer);   // model, schedules and K untouched
        Assert.Equal(Preset.Tiny, Preset.Tiny.WithUpdates(null));
        var e = Assert.Throws<BatException>(() => Preset.Tiny.WithUpdates(0));
        Assert.Contains("--steps", e.Message);
    }

    [Fact]
    public void Ablation_variants_differ_one_step_at_a_time()
    {
        var frontend = new Bat.Frontends.FrontendConfig("bat", 64, 512);
        var eat = PretrainVariant.Named("eat").Config(Preset.Smoke, frontend with { Kind = "kaldi" });
        var bat = PretrainVariant.Named("bat").Config(Preset.Smoke, frontend);
        Assert.False(eat.Encoder.Gated);
        Assert.Equal(("ffn", "cnn", "fairseq"), (Json.Name(eat.Targets), Json.Name(eat.Decoder.Kind), Json.Name(eat.UtteranceWeighting)));
        Assert.True(bat.Encoder.Gated);
        Assert.Equal(("eob", "vit", "equal"), (Json.Name(bat.Targets), Json.Name(bat.Decoder.Kind), Json.Name(bat.UtteranceWeighting)));
        Assert.Equal(EncoderConfig.Tiny with { Gated = true }, bat.Encoder);
        Assert.Equal("smoke", bat.Preset);
        Assert.Equal(Preset.Smoke.Pretraining.Steps, bat.Steps);
        Assert.Throws<BatException>(() => PretrainVariant.Named("nope"));
    }

    [Fact]
    public void The_K_grid_is_the_presets_unless_notebook_03_names_one()
    {
        Assert.Equal([2, 8, 32], ProbeComparison.KGrid(Preset.Smoke, ""));
        Assert.Equal([1, 16, 256], ProbeComparison.KGrid(Preset.Smoke, "1, 16,256"));
        var e = Assert.Throws<BatException>(() => ProbeComparison.KGrid(Preset.Smoke, "1,x"));
        Assert.Equal("Ks: 'x' is not a positive whole number (comma-separated K values, e.g. 1,16,256)", e.Message);
    }
}
