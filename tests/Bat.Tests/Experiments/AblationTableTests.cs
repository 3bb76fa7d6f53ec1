using Bat.Data.Synth;
using Bat.Experiments;
using Bat.Frontends;
using Bat.Notebooks;
using Bat.Pretraining;
using Bat.Reporting;
using Bat.Training;

namespace Bat.Tests.Experiments;

/// <summary>The paper's ablation at our scale: one change per row, every paper row placed once, margins computed.</summary>
public class AblationTableTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("batablation-").FullName;
    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>A small synthetic benchmark folder, made once per test class instance.</summary>
    ExperimentData SmokeData()
    {
        var dataDir = Path.Combine(root, "data");
        SyntheticBenchmark.Ensure(dataDir, clips: 48, seed: 5, seconds: 2);
        return ExperimentData.FromFolder(dataDir);
    }

    static PretrainConfig ConfigOf(PretrainVariant v) =>
        v.Config(Preset.Tiny, new FrontendConfig(v.Frontend, Preset.Tiny.Encoder.MelBins, Preset.Tiny.Encoder.Frames));

    /// <summary>What a row may change: the five knobs of the ablation, read from the config that is trained.</summary>
    static IEnumerable<(string Knob, object Value)> Knobs(PretrainConfig c) =>
        [("frontend", c.Frontend.Kind), ("targets", c.Targets), ("gate", c.Encoder.Gated), ("decoder", c.Decoder), ("weighting", c.UtteranceWeighting)];

    [Fact]
    public void EveryPretrainedRowChangesExactlyOneKnobOfItsParentAndNothingElse()
    {
        var byName = PretrainVariant.Ablation.ToDictionary(v => v.Name);
        Assert.Null(byName["eat"].Parent);
        foreach (var child in PretrainVariant.Ablation.Where(v => v.Parent is not null))
        {
            var (c, p) = (ConfigOf(child), ConfigOf(byName[child.Parent!]));
            var changed = Knobs(c).Zip(Knobs(p)).Where(k => !Equals(k.First.Value, k.Second.Value)).Select(k => k.First.Knob).ToList();
            Assert.True(changed.Count == 1, $"{child.Name} changes {string.Join(", ", changed)} of {child.Parent}");
            // Everything else (schedule, encoder size, masking, seed) is the parent's.
            var parentWithChildKnobs = p with
            {
                Variant = c.Variant, Frontend = c.Frontend, Targets = c.Targets, Encoder = p.Encoder with { Gated = c.Encoder.Gated },
                Decoder = c.Decoder, UtteranceWeighting = c.UtteranceWeighting,
            };
            Assert.Equal(parentWithChildKnobs, c);
        }
        // The two decoder rows: half the preset's heads and MLP ratio 2, then the preset's own.
        Assert.Equal(Preset.Tiny.VitDecoder, ConfigOf(byName["bat"]).Decoder);
        Assert.Equal(Preset.Tiny.VitDecoder with { Heads = Preset.Tiny.VitDecoder.Heads / 2, MlpRatio = 2 }, ConfigOf(byName["bat-vit-half"]).Decoder);
        // The chain ends in BAT and starts from EAT.
        Assert.Equal([TeacherTargetKind.Eob, TeacherTargetKind.Ffn], new[] { ConfigOf(byName["bat"]).Targets, ConfigOf(byName["eat"]).Targets });
    }

    [Fact]
    public void EveryLeverIsItsParentsRecipeWithOnlyTheSpreadTermAdded()
    {
        Assert.NotEmpty(PretrainVariant.Levers);
        foreach (var lever in PretrainVariant.Levers)
        {
            var parent = PretrainVariant.Named(Assert.IsType<string>(lever.Parent));
            var (c, p) = (ConfigOf(lever), ConfigOf(parent));
            Assert.True(c.SpreadWeight > 0, $"{lever.Name} has no spread term");
            Assert.Equal(0, p.SpreadWeight);
            Assert.Equal(p with { Variant = c.Variant, SpreadWeight = c.SpreadWeight }, c);
            Assert.Equal(PretrainVariant.ControlOf(parent.Name), PretrainVariant.ControlOf(lever.Name));   // read against the same control
            Assert.Empty(PaperResults.AblationOf(lever.Name));                                            // not a row of the paper
        }
        // Notebook 02 trains every lever after the ablation; `bat pretrain --variant` accepts them.
        Assert.Equal(PretrainVariant.Levers, PretrainVariant.WithControl.TakeLast(PretrainVariant.Levers.Count));
        Assert.Equal(PretrainVariant.Levers, PretrainVariant.Trainable.TakeLast(PretrainVariant.Levers.Count));
    }

    [Fact]
    public void EveryPaperAblationNumberStandsBesideExactlyOneVariant()
    {
        var placed = PretrainVariant.WithControl.SelectMany(v => PaperResults.AblationOf(v.Name)).ToList();
        Assert.Equal(PaperResults.Ablations.OrderBy(n => n.Model), placed.OrderBy(n => n.Model));
        Assert.Empty(PaperResults.AblationOf("untrained"));
        Assert.Equal(37.52, Assert.Single(PaperResults.AblationOf("bat")).Value);
    }

    static ResultRow Row(string model, string probe, string metric, double value, int seed = 0) =>
        new(AblationTable.Experiment, "birds", model, probe, null, null, metric, value, seed, "tiny", "x");

    [Fact]
    public void LinesReadEachRowAgainstTheControlAndItsParent()
    {
        var rows = new[]
        {
            Row("untrained", "cgp", "map", 40), Row("untrained", "lp", "map", 20),
            Row("bat-gate", "cgp", "map", 44), Row("bat-gate", "lp", "map", 25),
            Row("bat-cnn", "cgp", "map", 47), Row("bat-cnn", "cgp", "map", 49, seed: 1), Row("bat-cnn", "lp", "map", 22),
            Row("bat-cnn", "cgp", "f1_macro", 99),                                     // not the main metric: ignored
            new ResultRow("03-cgp-ablation/table5", "birds", "bat-cnn", "cgp", null, null, "map", 0, 0, "tiny", "x"), // other table
        };
        var lines = AblationTable.Lines(rows);
        Assert.Equal(["untrained", "bat-gate", "bat-cnn"], lines.Select(l => l.Variant));   // control first, then the ablation's order
        var cnn = lines[2];
        Assert.Equal(48, cnn.Scores["cgp"], 9);            // mean over seeds
        Assert.Equal(8, cnn.OverControl["cgp"], 9);
        Assert.Equal(4, cnn.OverParent["cgp"], 9);         // parent bat-gate: 44
        Assert.Equal(-3, cnn.OverParent["lp"], 9);
        Assert.Equal("bat-gate", cnn.Parent);
        Assert.Equal("CNN decoder", Assert.Single(cnn.Paper).Model);
        Assert.Empty(lines[0].OverControl);
        Assert.Empty(lines[1].OverParent);                  // bat-gate's parent bat-eob has no rows
    }

    [Fact]
    public void AblationIsComputedForEveryVariantGivenAndReportedAtSmoke()
    {
        var data = SmokeData();
        var outDir = Path.Combine(root, "results");
        string[] variants = ["untrained", "untrained-nogate", "eat", "bat-frontend"];   // the controls first, as the table orders them
        PretrainingAblation.Run(Preset.Smoke, outDir, data, variants);

        var lines = AblationTable.Run(Preset.Smoke, outDir, data, variants);
        Assert.Equal(variants, lines.Select(l => l.Variant));
        var written = ResultsTable.Read(new OutputLayout(outDir).Ablation);
        foreach (var line in lines)
            foreach (var probe in AblationTable.Probes)
            {
                var score = written.Single(r => r.Model == line.Variant && r.Probe == probe && r.Metric == line.Metric).Value;
                Assert.Equal(score, line.Scores[probe], 9);
            }
        var frontend = lines.Single(l => l.Variant == "bat-frontend");
        // bat-frontend (BAT's frontend, plain attention) is read against the control of its shape, not BAT's.
        Assert.Equal(frontend.Scores["cgp"] - lines[1].Scores["cgp"], frontend.OverControl["cgp"], 9);
        Assert.Equal(frontend.Scores["lp"] - lines[2].Scores["lp"], frontend.OverParent["lp"], 9);
        Assert.Empty(lines.Single(l => l.Variant == "eat").OverControl);   // untrained-eat was not run: no margin rather than a wrong one

        var html = ReproductionReport.Render(outDir, new ReproduceOptions { Preset = "smoke", Data = data.Source }, null, null, TimeSpan.Zero);
        Assert.Contains("Ablation: EAT to BAT one change at a time", html);
        Assert.Contains("EAT frontend: 34.86", html);
    }

    [Fact]
    public void TheLeversSpreadWeightCanBeChosenAndAFolderOfAnotherWeightIsRefused()
    {
        var data = SmokeData();
        var outDir = Path.Combine(root, "results-weight");
        var outcomes = PretrainingAblation.Run(Preset.Smoke, outDir, data, ["bat", "bat-spread"], levers: new LeverOverrides(SpreadWeight: 30));
        // Only the lever takes the weight; the papers' bat keeps none.
        Assert.Equal(0.0, PretrainRun.SavedConfig(outcomes[0].RunDir)!.SpreadWeight);
        Assert.Equal(30.0, PretrainRun.SavedConfig(outcomes[1].RunDir)!.SpreadWeight);
        Assert.Equal(3.0, PretrainVariant.Named("bat-spread").SpreadWeight);   // the variant itself is unchanged
        // The same folder read with the variant's own weight is another recipe: refused, not reused.
        var error = Assert.Throws<BatException>(() => PretrainingAblation.Run(Preset.Smoke, outDir, data, ["bat-spread"]));
        Assert.Contains("bat-spread", error.Message);
        var zero = Assert.Throws<BatException>(() => LearningBenchmark.Run(Preset.Smoke, outDir, data, ["bat-spread"], levers: new LeverOverrides(SpreadWeight: 0)));
        Assert.StartsWith("--spread-weight", zero.Message);
    }

    [Fact]
    public void TheLeversTargetsCanBeCentredAndAFolderOfUncentredTargetsIsRefused()
    {
        var data = SmokeData();
        var outDir = Path.Combine(root, "results-centred");
        var outcomes = PretrainingAblation.Run(Preset.Smoke, outDir, data, ["bat", "bat-spread"],
            levers: new LeverOverrides(SpreadWeight: 30, CentreTargets: true, SpreadNormalised: true));
        // Only the lever is centred and has its spread read gain-free, with the weight given; the papers' bat keeps its own recipe.
        var bat = PretrainRun.SavedConfig(outcomes[0].RunDir)!;
        var lever = PretrainRun.SavedConfig(outcomes[1].RunDir)!;
        Assert.Equal((false, 0.0, false), (bat.CentreTargets, bat.SpreadWeight, bat.SpreadNormalised));
        Assert.Equal((true, 30.0, true), (lever.CentreTargets, lever.SpreadWeight, lever.SpreadNormalised));
        Assert.False(PretrainVariant.Named("bat-spread").CentreTargets);   // the variant itself is unchanged
        Assert.False(PretrainVariant.Named("bat-spread").SpreadNormalised);
        // The lever's folder read without centring is another recipe: refused, not reused.
        var error = Assert.Throws<BatException>(() =>
            PretrainingAblation.Run(Preset.Smoke, outDir, data, ["bat-spread"], levers: new LeverOverrides(SpreadWeight: 30)));
        Assert.Contains("bat-spread", error.Message);
    }

    [Fact]
    public void TheLeversCanDrawWindowsFromLongerClipsButNotFromPastTheirEnd()
    {
        var data = SmokeData();                                  // 2 s clips: 201 frames
        var preset = Preset.Smoke.WithInput(null, 128);
        var outDir = Path.Combine(root, "results-windows");
        var outcomes = PretrainingAblation.Run(preset, outDir, data, ["bat", "bat-spread"], levers: new LeverOverrides(ClipFrames: 192));
        // Only the lever keeps 192 frames of each clip (and trains on windows of 128); the papers' bat keeps the input's.
        Assert.Equal(0, PretrainRun.SavedConfig(outcomes[0].RunDir)!.ClipFrames);
        Assert.Equal(192, PretrainRun.SavedConfig(outcomes[1].RunDir)!.ClipFrames);
        Assert.Equal(preset.Pretraining.Steps, outcomes[1].Metrics[^1].Step);
        Assert.Equal(0, PretrainVariant.Named("bat-spread").ClipFrames);   // the variant itself is unchanged
        // More frames than the clips have: refused before any training, naming the manifest and the clips' length.
        var past = Assert.Throws<BatException>(() =>
            PretrainingAblation.Run(preset, Path.Combine(root, "results-windows-past"), data, ["bat-spread"], levers: new LeverOverrides(ClipFrames: 256)));
        Assert.Contains(".csv", past.Message);
        Assert.Contains("201 frames", past.Message);
        var negative = Assert.Throws<BatException>(() => LearningBenchmark.Run(preset, outDir, data, ["bat-spread"], levers: new LeverOverrides(ClipFrames: -1)));
        Assert.StartsWith("--clip-frames", negative.Message);
    }

    [Fact]
    public void ARunFolderOfAnotherRecipeIsRefusedNotReused()
    {
        var data = SmokeData();
        var outDir = Path.Combine(root, "results");
        var variant = PretrainVariant.Named("bat-eob");
        // bat-eob as an older version defined it: end-of-block targets together with BAT's equal weighting.
        var old = variant.Config(Preset.Smoke, new FrontendConfig(variant.Frontend, Preset.Smoke.Encoder.MelBins, Preset.Smoke.Encoder.Frames))
            with { UtteranceWeighting = UtteranceWeighting.Equal };
        var runDir = new OutputLayout(outDir).PretrainRun("bat-eob");
        Directory.CreateDirectory(runDir);
        Json.Save(Checkpoint.ConfigPath(runDir), old);
        var error = Assert.Throws<BatException>(() => PretrainingAblation.Run(Preset.Smoke, outDir, data, ["bat-eob"]));
        Assert.Contains("config.json", error.Message);
        Assert.Contains("bat-eob", error.Message);
        Assert.Single(Directory.EnumerateFileSystemEntries(runDir));   // nothing written beside the old config
    }
}
