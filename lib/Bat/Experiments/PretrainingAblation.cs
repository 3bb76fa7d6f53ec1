using System.Globalization;
using Bat.Data;
using Bat.Frontends;
using Bat.Pretraining;
using Bat.Probing;
using Bat.Training;

namespace Bat.Experiments;

/// <summary>
/// Notebook 02's work: pre-train each ablation variant on the experiment's pre-training manifest (the embedded
/// benchmark or a folder's, see <see cref="ExperimentData"/>) into {outDir}/pretrain/{variant}/, skipping a
/// variant whose run is complete and resuming an interrupted one.
/// </summary>
public static class PretrainingAblation
{
    public sealed record Outcome(PretrainVariant Variant, string RunDir, bool Skipped, IReadOnlyList<MetricsRow> Metrics)
    {
        public MetricsRow? Last => Metrics.Count > 0 ? Metrics[^1] : null;
        /// <summary>Mean clips/s over the run, without the first step (start-up).</summary>
        public double ClipsPerSecond => Metrics.Count > 1 ? Metrics.Skip(1).Average(m => m.ClipsPerSecond) : double.NaN;
    }

    /// <summary>One variant's line of pretrain/summary.csv: the last step's losses, mean throughput, peak RSS.</summary>
    /// <param name="ContentShare">the last update's collapse check (docs/method.md section 7)</param>
    /// <param name="ClsRank">the last update's effective rank of the student's CLS over the batch (dimensional collapse)</param>
    public sealed record SummaryRow(string Variant, string Description, long Steps, double Loss, double FrameLoss, double UtteranceLoss,
        double ContentShare, double ClsRank, double ClipsPerSecond, double PeakRssMb);

    /// <param name="levers">changes to the variants that have a spread term (the levers; null: none). The run keeps
    /// the variant's name and records them in its config.json, so a folder made with other ones is refused.</param>
    public static IReadOnlyList<Outcome> Run(Preset preset, string outDir, ExperimentData data, IEnumerable<string>? variants = null, long seed = 0,
        LeverOverrides? levers = null)
    {
        var layout = new OutputLayout(outDir);
        var encoder = preset.Encoder;
        var chosen = (variants ?? PretrainVariant.WithControl.Select(v => v.Name)).Select(PretrainVariant.Named)
            .Select(v => levers is null ? v : levers.Apply(v))
            .ToList();
        var manifest = data.PretrainManifest;
        var trainedOn = Bat.Data.Manifest.Fingerprint(manifest);
        var clipsByFrontend = new Dictionary<string, FileClipSource>(); // featurize once per frontend and clip length, share across variants
        var outcomes = new List<Outcome>();
        try
        {
            foreach (var variant in chosen)
            {
                var runDir = layout.PretrainRun(variant.Name);
                RefuseOtherData(runDir, trainedOn);
                RefuseOtherRecipe(runDir, variant.Config(preset, new FrontendConfig(variant.Frontend, encoder.MelBins, encoder.Frames), seed));
                if (PretrainRun.IsComplete(runDir))
                {
                    Console.Error.WriteLine($"{variant.Name}: complete, skipped");
                    outcomes.Add(new Outcome(variant, runDir, true, PretrainRun.ReadMetrics(runDir)));
                    continue;
                }
                // An interrupted run keeps the frontend constants it started with.
                var saved = PretrainRun.SavedConfig(runDir);
                var frontend = saved?.Frontend.Kind == variant.Frontend
                    ? saved.Frontend
                    : PretrainData.FrontendFor(variant.Frontend, encoder.MelBins, encoder.Frames, manifest);
                var config = variant.Config(preset, frontend, seed) with { TrainedOn = trainedOn };
                var key = Json.Serialize(frontend) + $"|{config.FramesPerClip()}";
                if (!clipsByFrontend.TryGetValue(key, out var clips))
                    clipsByFrontend[key] = clips = PretrainData.Load(manifest, frontend, config.FramesPerClip());
                PretrainRun.Execute(config, clips, runDir, resume: true, label: variant.Name);
                outcomes.Add(new Outcome(variant, runDir, false, PretrainRun.ReadMetrics(runDir)));
            }
        }
        finally { foreach (var clips in clipsByFrontend.Values) clips.Dispose(); }
        WriteSummary(layout.PretrainSummary, outcomes);
        return outcomes;
    }

    /// <summary>A run folder trained on other data must not be skipped as complete or resumed: say so and stop.</summary>
    static void RefuseOtherData(string runDir, string trainedOn)
    {
        var saved = PretrainRun.SavedConfig(runDir)?.TrainedOn ?? "";
        if (saved.Length > 0 && saved != trainedOn)
            throw new BatException(runDir, $"was pre-trained on {saved}, not on {trainedOn}: use another output folder for other data");
    }

    /// <summary>
    /// A run folder whose config.json is another recipe than the variant's under this preset (say, a folder made
    /// before a variant changed, or with other bat pretrain options) must not be skipped as complete or resumed.
    /// The frontend's constants and the data fingerprint are compared elsewhere (they are measured, not chosen).
    /// </summary>
    static void RefuseOtherRecipe(string runDir, PretrainConfig expected)
    {
        if (PretrainRun.SavedConfig(runDir) is not { } saved) return;
        if (saved.Frontend.Kind != expected.Frontend.Kind
            || saved with { Frontend = expected.Frontend, TrainedOn = expected.TrainedOn } != expected)
            throw new BatException(Checkpoint.ConfigPath(runDir),
                $"is not variant '{expected.Variant}' of preset {expected.Preset} as this version defines it: delete the folder or use another output folder");
    }

    /// <summary>One row per variant: final losses and content share (the last step's), throughput, peak RSS.</summary>
    public static IReadOnlyList<SummaryRow> Summary(IReadOnlyList<Outcome> outcomes) =>
        outcomes.Select(o => new SummaryRow(o.Variant.Name, o.Variant.Description, o.Last?.Step ?? 0, o.Last?.Loss ?? double.NaN,
            o.Last?.FrameLoss ?? double.NaN, o.Last?.UtteranceLoss ?? double.NaN, o.Last?.ContentShare ?? double.NaN, o.Last?.ClsRank ?? double.NaN, o.ClipsPerSecond,
            o.Metrics.Count > 0 ? o.Metrics.Max(m => m.RssMb) : double.NaN)).ToList();

    /// <summary>The <see cref="Summary"/> as {outDir}/pretrain/summary.csv.</summary>
    static void WriteSummary(string path, IReadOnlyList<Outcome> outcomes)
    {
        static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
        var lines = new List<string> { "variant,description,steps,loss,frame_loss,utterance_loss,content_share,cls_rank,clips_per_s,peak_rss_mb" };
        lines.AddRange(Summary(outcomes).Select(r => string.Join(",", r.Variant, $"\"{r.Description}\"", r.Steps, F(r.Loss),
            F(r.FrameLoss), F(r.UtteranceLoss), F(r.ContentShare), F(r.ClsRank), F(r.ClipsPerSecond), F(r.PeakRssMb))));
        AtomicFile.WriteAllText(path, string.Join("\n", lines) + "\n");
    }

    /// <summary>One point of a learning curve: a probe's test score on one checkpoint of a run (step 0: the untrained
    /// control of the run's encoder shape, <see cref="PretrainVariant.ControlOf"/>).</summary>
    public sealed record LearningPoint(string Variant, long Step, string Metric, double Score);

    /// <summary>
    /// Whether pre-training teaches the encoder anything, as it happens: the linear probe (or another frozen probe)
    /// on the primary task for each variant's untrained control (step 0) and for every checkpoint its run kept.
    /// Rows go to {outDir}/pretrain/learning-curve.csv (variant,step,probe,metric,value). A curve that does not rise
    /// above its step-0 point means the updates did not make the features any better for the task.
    /// </summary>
    public static IReadOnlyList<LearningPoint> LearningCurve(Preset preset, string outDir, ExperimentData data, IEnumerable<string> variants,
        string probe = "lp", int seed = 0)
    {
        var layout = new OutputLayout(outDir);
        var manifest = data.PrimaryTask;
        var points = new List<LearningPoint>();
        void Score(string variant, CheckpointSource checkpoint, long step)
        {
            using var session = ProbeExperiment.Open(checkpoint, manifest, layout.Embeddings(variant, manifest, checkpoint));
            var run = ProbeExperiment.Run(session, probe, preset.Prototypes, preset.RecipeFor(manifest, checkpoint, seed).Probing);
            points.Add(new LearningPoint(variant, step, run.SelectionMetric, run.Test[run.SelectionMetric]));
        }
        foreach (var control in variants.Select(PretrainVariant.ControlOf).Distinct())   // each variant's step 0: its own shape's control
            Score(control, CheckpointSource.Resolve(layout.RequirePretrainRun(control)), 0);
        foreach (var variant in variants)
            foreach (var file in Checkpoint.All(layout.RequirePretrainRun(variant)).Reverse())   // oldest first
                Score(variant, CheckpointSource.Resolve(file), Checkpoint.StepOf(file));
        var lines = new List<string> { "variant,step,probe,metric,value" };
        lines.AddRange(points.Select(p => FormattableString.Invariant($"{p.Variant},{p.Step},{probe},{p.Metric},{p.Score:R}")));
        AtomicFile.WriteAllText(layout.LearningCurve, string.Join("\n", lines) + "\n");
        return points;
    }
}
