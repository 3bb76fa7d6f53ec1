using System.Collections;
using System.Text.Json;
using Bat.Model;
using Bat.Probing;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Bat.Tests.Probing;

/// <summary>
/// Our probes, losses and fine-tuning parameter groups against the official code (houtan-ghaffari/BAT_ICML2026,
/// commit cc92282): tests/fixtures/make_official_heads.py ran the official heads (models/heads.py), losses
/// (engine/utils.py, engine/trainer.py) and groups (engine/optim.py) in float64 with seeded weights on fixed frozen
/// features, and recorded logits, loss and every gradient. Our probes, built by <see cref="ProbeCatalog"/>, get the
/// same weights by name and the same inputs. Both sides run in float64, so anything above rounding is a difference
/// of method (a LayerNorm eps of 1e-5 instead of 1e-6 alone moves the logits by ~1e-6).
/// </summary>
public class OfficialHeadTests
{
    const int Layers = 3, Dim = 8, Classes = 5, Prototypes = 7;   // the fixture script's L, D, C, K
    const double Tolerance = 1e-9;

    static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "official", "heads", name);

    static Hashtable Load(string name) => PyTorchUnpickler.UnpickleStateDict(Fixture(name));

    /// <summary>Our parameter name for an official head's parameter name.</summary>
    static string OurName(string official) => official switch
    {
        "block_attention" => "gate",
        "prototype_vectors" => "prototypes",
        _ when official.StartsWith("ln.", StringComparison.Ordinal) => "norm." + official[3..],
        _ when official.StartsWith("fc.", StringComparison.Ordinal) => "classifier." + official[3..],
        _ => throw new ArgumentException($"no counterpart for official parameter '{official}'"),
    };

    static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.numel(), actual.numel());
        using var diff = actual.detach().cpu().to_type(ScalarType.Float64).reshape(expected.shape).sub(expected).abs().max();
        using var scale = expected.abs().max();
        double error = diff.item<double>(), bound = Tolerance * Math.Max(1, scale.item<double>());
        Assert.True(error <= bound, $"{what}: max |ours - official| = {error:E2} (allowed {bound:E1})");
    }

    [Theory]
    [InlineData("lp")]
    [InlineData("lcgp")]
    [InlineData("h2t")]
    [InlineData("cgp")]
    [InlineData("cgp-nocls")]
    [InlineData("pb")]
    public void ProbeGivesTheOfficialHeadsLogitsLossAndGradients(string name)
    {
        using var scope = NewDisposeScope();
        var fixture = Load($"{name}.pt");
        Tensor Get(string key) => (Tensor)fixture[key]!;
        var probe = ProbeCatalog.Create(name, Layers, Dim, Classes, Prototypes);
        probe.to(ScalarType.Float64);
        probe.eval();   // dropout off, as the official head ran; the rate itself: DropoutIsTheOfficialHeadDropout

        var ours = probe.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var officialNames = fixture.Keys.Cast<string>().Where(k => k.StartsWith("param.", StringComparison.Ordinal))
            .Select(k => k["param.".Length..]).ToList();
        Assert.Equal(ours.Keys.Order(), officialNames.Select(OurName).Order());
        using (no_grad())
            foreach (var official in officialNames)
            {
                var target = ours[OurName(official)];
                var value = Get($"param.{official}");
                Assert.Equal(target.numel(), value.numel());
                target.copy_(value.reshape(target.shape));
            }

        var x = new LayerEmbeddings(Get("cls"), Get("patches"));
        var logits = probe.forward(x);
        var loss = ProbeLosses.AsymmetricLoss(logits, Get("targets"));
        if (probe.Penalty() is { } penalty) loss = loss.add(penalty);
        loss.backward();

        AssertClose(Get("logits"), logits, $"{name} logits");
        AssertClose(Get("loss"), loss, $"{name} loss");
        foreach (var official in officialNames)
            AssertClose(Get($"grad.{official}"), ours[OurName(official)].grad!, $"{name} d loss / d {OurName(official)}");
    }

    const int FreqPatches = 3;   // the fixture script's F (T = 2 time patches)

    /// <summary>Copies the official head's parameters (by name) into ours; returns the official names.</summary>
    static List<string> LoadOfficialParameters(Probe probe, Hashtable fixture)
    {
        var ours = probe.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var officialNames = fixture.Keys.Cast<string>().Where(k => k.StartsWith("param.", StringComparison.Ordinal))
            .Select(k => k["param.".Length..]).ToList();
        Assert.Equal(ours.Keys.Order(), officialNames.Select(OurName).Order());
        using (no_grad())
            foreach (var official in officialNames)
                ours[OurName(official)].copy_(((Tensor)fixture[$"param.{official}"]!).reshape(ours[OurName(official)].shape));
        return officialNames;
    }

    [Theory]
    [InlineData("cgp", 0.2)]
    [InlineData("lp", 0.0)]
    [InlineData("lcgp", 0.0)]
    [InlineData("h2t", 0.0)]
    [InlineData("pb", 0.0)]
    public void FrameWiseProbeGivesTheOfficialSedHeadsLogitsBceLossAndGradients(string name, double headDropout)
    {
        // configs/dcase2016_task2/sed_<name>_config.yaml: the head with frame_wise_task, one prediction per time patch.
        using var scope = NewDisposeScope();
        var fixture = Load($"{name}-frame.pt");
        Tensor Get(string key) => (Tensor)fixture[key]!;
        var probe = ProbeCatalog.CreateFrameWise(name, Layers, Dim, Classes, Prototypes, FreqPatches);
        Assert.Equal($"{name}-frame", probe.GetName());
        probe.to(ScalarType.Float64);
        probe.eval();
        var officialNames = LoadOfficialParameters(probe, fixture);

        var logits = probe.forward(new LayerEmbeddings(Get("cls"), Get("patches")));
        Assert.Equal(Get("logits").shape, logits.shape);   // (B, T, C)
        var loss = ProbeLosses.BinaryCrossEntropy(logits, Get("frame_targets"));
        if (probe.Penalty() is { } penalty) loss = loss.add(penalty);
        loss.backward();
        AssertClose(Get("logits"), logits, $"{name}-frame logits");
        AssertClose(Get("loss"), loss, $"{name}-frame binary cross-entropy");
        var ours = probe.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var official in officialNames)
            AssertClose(Get($"grad.{official}"), ours[OurName(official)].grad!, $"{name}-frame d loss / d {OurName(official)}");

        // Decay on the classifier's weights only, as the official probing optimizer; the configs' head dropout.
        var decayed = probe.ClassifierWeights().ToList();
        var officialDecay = fixture.Keys.Cast<string>().Where(k => k.StartsWith("weight_decay.", StringComparison.Ordinal))
            .ToDictionary(k => OurName(k["weight_decay.".Length..]), k => ((Tensor)fixture[k]!).item<double>() > 0);
        Assert.Equal(officialDecay.OrderBy(kv => kv.Key), ours.ToDictionary(kv => kv.Key, kv => decayed.Any(d => ReferenceEquals(d, kv.Value))).OrderBy(kv => kv.Key));
        Assert.Equal(headDropout, Assert.Single(probe.modules().OfType<Dropout>()).p);
    }

    [Fact]
    public void Head2ToeLassoIsTheOfficialPerFeatureGroupLassoScaledBySqrtClasses()
    {
        using var scope = NewDisposeScope();
        var fixture = Load("h2t.pt");
        var probe = ProbeCatalog.Create("h2t", Layers, Dim, Classes, Prototypes);
        probe.to(ScalarType.Float64);
        var weight = probe.named_parameters().Single(p => p.name == "classifier.weight").parameter;
        using (no_grad()) weight.copy_((Tensor)fixture["param.fc.weight"]!);
        var penalty = probe.Penalty()!;
        penalty.backward();
        AssertClose((Tensor)fixture["penalty"]!, penalty, "lasso_weight * group lasso");
        AssertClose((Tensor)fixture["penalty_grad.fc.weight"]!, weight.grad!, "d lasso / d classifier.weight");
    }

    [Theory]
    [InlineData("lp")]
    [InlineData("lcgp")]
    [InlineData("h2t")]
    [InlineData("cgp")]
    [InlineData("cgp-nocls")]
    [InlineData("pb")]
    public void WeightDecayFallsOnTheParametersTheOfficialProbingOptimizerDecays(string name)
    {
        // ProbeTrainer decays ClassifierWeights() and nothing else; the official get_optimizer decays every
        // parameter but vectors, gates and prototypes.
        using var scope = NewDisposeScope();
        var fixture = Load($"{name}.pt");
        using var probe = ProbeCatalog.Create(name, Layers, Dim, Classes, Prototypes);
        var decayed = probe.ClassifierWeights().ToList();
        var ours = probe.named_parameters().ToDictionary(p => p.name, p => decayed.Any(d => ReferenceEquals(d, p.parameter)));
        var official = fixture.Keys.Cast<string>().Where(k => k.StartsWith("weight_decay.", StringComparison.Ordinal))
            .ToDictionary(k => OurName(k["weight_decay.".Length..]), k => ((Tensor)fixture[k]!).item<double>() > 0);
        Assert.Equal(official.OrderBy(kv => kv.Key), ours.OrderBy(kv => kv.Key));
    }

    [Theory]
    [InlineData("lp")]
    [InlineData("lcgp")]
    [InlineData("h2t")]
    [InlineData("cgp")]
    [InlineData("cgp-nocls")]
    [InlineData("pb")]
    public void DropoutIsTheOfficialHeadDropout(string name)
    {
        // head_dropout: 0.2 in every probing config of the official code (configs/{as20k,esc50,scv2}/*_config.yaml).
        using var probe = ProbeCatalog.Create(name, Layers, Dim, Classes, Prototypes);
        var dropout = Assert.Single(probe.modules().OfType<Dropout>());
        Assert.Equal(0.2, dropout.p);
    }

    [Theory]
    [InlineData("asl", "multi_hot")]
    [InlineData("asl", "soft_multi_hot")]
    [InlineData("ce", "one_hot")]
    [InlineData("ce", "soft_one_hot")]
    public void LossesMatchTheOfficialLossesAndGradients(string loss, string target)
    {
        // Logits include +-25 and +-40, where the official eps clamp (1e-8) on the probabilities cuts the gradient.
        using var scope = NewDisposeScope();
        var fixture = Load("losses.pt");
        var logits = ((Tensor)fixture["logits"]!).clone().requires_grad_(true);
        var targets = (Tensor)fixture[target]!;
        var value = loss == "asl" ? ProbeLosses.AsymmetricLoss(logits, targets) : ProbeLosses.SoftmaxCrossEntropy(logits, targets);
        value.backward();
        AssertClose((Tensor)fixture[$"{loss}.{target}"]!, value, $"{loss} on {target}");
        AssertClose((Tensor)fixture[$"{loss}_grad.{target}"]!, logits.grad!, $"d {loss} / d logits on {target}");
    }

    /// <summary>Our fine-tuning model's name for an official ViT parameter (models/vit.py, LinearHead).</summary>
    static string OurFineTuneName(string official) => official switch
    {
        _ when official.StartsWith("head.ln.", StringComparison.Ordinal) => "norm." + official["head.ln.".Length..],
        _ when official.StartsWith("head.fc.", StringComparison.Ordinal) => "head." + official["head.fc.".Length..],
        _ => "encoder." + official.Replace("patch_embed.proj.", "patch_embed.").Replace(".mlp.fc", ".fc"),
    };

    [Fact]
    public void FineTuneGroupsAreTheOfficialLayerwiseDecayGroups()
    {
        using var scope = NewDisposeScope();
        using var json = JsonDocument.Parse(File.ReadAllText(Fixture("finetune-groups.json")));
        var root = json.RootElement;
        double layerDecay = root.GetProperty("layer_decay").GetDouble(), weightDecay = root.GetProperty("weight_decay").GetDouble();
        var config = new EncoderConfig
        {
            MelBins = 128, Frames = 256, Dim = root.GetProperty("dim").GetInt32(), Depth = root.GetProperty("depth").GetInt32(),
            Heads = 4, Gated = true,
        };
        using var model = new FineTuneModel(new Encoder(config), root.GetProperty("classes").GetInt32());
        var groups = model.LayerwiseGroups(layerDecay, weightDecay);
        var ours = model.named_parameters().ToDictionary(p => p.name, p =>
        {
            var group = groups.Single(g => g.Parameters.Any(q => ReferenceEquals(q, p.parameter)));
            return (p.parameter.shape, group.Scale, group.WeightDecay);
        });

        var official = root.GetProperty("params").EnumerateArray().ToList();
        Assert.Equal(ours.Keys.Order(), official.Select(p => OurFineTuneName(p.GetProperty("name").GetString()!)).Order());
        foreach (var p in official)
        {
            string name = p.GetProperty("name").GetString()!;
            var (shape, scale, decay) = ours[OurFineTuneName(name)];
            Assert.Equal(p.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()), shape);
            Assert.True(Math.Abs(p.GetProperty("lr_scale").GetDouble() - scale) < 1e-12,
                $"{name}: lr scale {scale} where the official groups give {p.GetProperty("lr_scale").GetDouble()}");
            Assert.True(p.GetProperty("weight_decay").GetDouble() == decay,
                $"{name}: weight decay {decay} where the official groups give {p.GetProperty("weight_decay").GetDouble()}");
        }
    }
}
