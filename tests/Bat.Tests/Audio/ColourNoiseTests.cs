using System.Collections;
using Bat.Audio;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Bat.Tests.Audio;

/// <summary>The colour-noise augmentation against the official apply_color_noise (tests/fixtures/make_colour_noise.py).</summary>
public class ColourNoiseTests
{
    static Hashtable Fixture() => PyTorchUnpickler.UnpickleStateDict(
        Path.Combine(AppContext.BaseDirectory, "fixtures", "official", "augment", "colour-noise.pt"));

    [Fact]
    public void GivenTheOfficialDrawsItAddsTheOfficialNoise()
    {
        var f = Fixture();
        var x = (Tensor)f["x"]!;
        using var ours = ColourNoise.Apply(x, (Tensor)f["decay"]!, (Tensor)f["snr_db"]!, (Tensor)f["noise"]!, (Tensor)f["on"]!);
        var official = (Tensor)f["out"]!;
        using var error = ours.sub(official).abs().max();
        Assert.True(error.item<double>() < 1e-9, $"max |ours - official| = {error.item<double>():E2}");
        // The fixture has clips with and without noise; those without are returned unchanged.
        var on = ((Tensor)f["on"]!).flatten().data<double>().ToArray();
        Assert.Contains(0.0, on);
        Assert.Contains(1.0, on);
        for (int i = 0; i < on.Length; i++)
        {
            using var changed = ours[i].ne(x[i]).any();
            Assert.Equal(on[i] == 1.0, changed.item<bool>());
        }
    }

    [Fact]
    public void NoiseSitsAtTheDrawnSnrAndTheSameGeneratorSeedRepeatsIt()
    {
        using var x = sin(arange(0, 8000, dtype: ScalarType.Float64).mul(0.05)).unsqueeze(0).repeat(6, 1);   // (6, 8000)
        using var g1 = new Generator(99);
        using var g2 = new Generator(99);
        using var a = ColourNoise.Augment(x, 1.0, g1);
        using var b = ColourNoise.Augment(x, 1.0, g2);
        Assert.True(a.eq(b).all().item<bool>());
        // With chance 1 every clip gets noise at an SNR in [5, 25] dB (noise RMS against the clean RMS).
        using var noise = a.sub(x);
        var snr = noise.square().mean([1]).sqrt().reciprocal().mul(x.square().mean([1]).sqrt()).log10().mul(20).data<double>().ToArray();
        Assert.All(snr, v => Assert.InRange(v, 5 - 1e-6, 25 + 1e-6));
        Assert.True(snr.Max() - snr.Min() > 0.1, "each clip draws its own SNR");
    }
}
