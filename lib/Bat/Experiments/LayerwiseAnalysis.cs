using Bat.Data;
using Bat.Probing;
using Bat.Reporting;
using Bat.Training;
using static TorchSharp.torch;

namespace Bat.Experiments;

/// <summary>Where task information lives in one model: a linear probe per block and the CGP gate (paper Figure 4).</summary>
public sealed record LayerProfile(string Model, double[] LinearProbeScores, float[] GateWeights, double CgpScore);

/// <summary>
/// Attention of one clip through one model (paper Figure 5): the last block's attention averaged over heads
/// ((1+N) x (1+N), token 0 = CLS) and, per block, the share of attention that lands on the CLS token.
/// </summary>
public sealed record AttentionProfile(string Model, bool Gated, string Clip, double[,] LastBlockMap, double[] ClsShare);

/// <summary>
/// Notebook 04's work: per-block linear probes and CGP gate weights for notebook 02's eat, bat-cnn and bat
/// checkpoints on the primary task (<see cref="ExperimentData"/>), and the attention maps / attention sinks
/// with and without gated attention. Results go to {OutDir}/04-layerwise/.
/// </summary>
public static class LayerwiseAnalysis
{
    public const string Experiment = OutputLayout.LayerwiseExperiment;
    public static readonly string[] Variants = ["untrained", "untrained-eat", "eat", "bat-cnn", .. PretrainVariant.Levers.Select(v => v.Name), "bat"];   // each model beside the control of its shape

    public static string ResultsDir(string outDir) => new OutputLayout(outDir).Results(Experiment);

    /// <summary>Per-layer LP scores and CGP gates for each variant; rows written to layerwise.csv.</summary>
    public static IReadOnlyList<LayerProfile> Profiles(Preset preset, string outDir, ExperimentData data, IEnumerable<string>? variants = null, int seed = 0)
    {
        var layout = new OutputLayout(outDir);
        var manifest = data.PrimaryTask;
        int k = preset.Prototypes;
        var profiles = new List<LayerProfile>();
        var rows = new List<ResultRow>();
        foreach (var variant in variants ?? Variants)
        {
            var checkpoint = CheckpointSource.Resolve(layout.RequireRun(variant));
            var config = preset.RecipeFor(manifest, checkpoint, seed).Probing;
            using var session = ProbeExperiment.Open(checkpoint, manifest, layout.Embeddings(variant, manifest, checkpoint));
            var perLayer = ProbeExperiment.Run(session, "layer-lp", k, config);
            var cgp = ProbeExperiment.Run(session, "cgp", k, config);
            string metric = session.Task.SelectionMetric;
            var name = OutputLayout.ModelName(variant);
            profiles.Add(new LayerProfile(name, perLayer.Heads.Select(h => h.Test[metric]).ToArray(), cgp.GateWeights!, cgp.Test[metric]));
            rows.AddRange(ProbeResults.Rows(perLayer, Experiment, session.Task.Name, name, k, seed, preset.Name));
            rows.AddRange(ProbeResults.Rows(cgp, Experiment, session.Task.Name, name, k, seed, preset.Name));
        }
        ResultsTable.Write(Path.Combine(ResultsDir(outDir), "layerwise.csv"), rows);
        return profiles;
    }

    /// <summary>Attention of a test clip of the primary task through a variant's encoder; the map and sink shares are written as CSV.</summary>
    public static AttentionProfile Attention(string outDir, ExperimentData data, string variant, int clip = 0)
    {
        var manifest = Manifest.Load(data.PrimaryTask);
        var source = CheckpointSource.Resolve(new OutputLayout(outDir).RequireRun(variant));
        var config = source.Encoder;
        var input = TaskInput.For(source, manifest, new OutputLayout(outDir).Embeddings(variant, data.PrimaryTask, source));   // the task's own length
        using (var encoder = source.LoadEncoder())
        {
            var loader = new FeatureLoader(manifest, ProbeExperiment.TestSplit, input.Featurizer(), LoaderOptions.Eval(1, input.Frames));
            using var batch = loader.MakeBatch([clip]);
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            using var output = encoder.Forward(batch.Features.to(Devices.Default), returnAttention: true);
            var maps = output.Attention ?? throw new InvalidOperationException("the encoder returned no attention maps");
            // Per block: attention (1, H, 1+N, 1+N) -> mean over heads and queries of the weight on key 0 (CLS).
            var clsShare = maps.Select(a => a[0, TensorIndex.Colon, TensorIndex.Colon, 0].mean().item<float>()).Select(v => (double)v).ToArray();
            var last = maps[^1][0].mean(new long[] { 0 }).to(ScalarType.Float64).cpu();   // (1+N, 1+N)
            int n = (int)last.shape[0];
            var map = new double[n, n];
            var flat = last.data<double>().ToArray();
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) map[i, j] = flat[i * n + j];
            var name = OutputLayout.ModelName(variant);
            var profile = new AttentionProfile(name, config.Gated, loader.Entries[clip].Path, map, clsShare);

            var dir = ResultsDir(outDir);
            Csv.WriteMatrix(Path.Combine(dir, $"attention-{name}-last-block.csv"), map);
            AtomicFile.WriteAllText(Path.Combine(dir, $"cls-share-{name}.csv"),
                "block,cls_share\n" + string.Concat(clsShare.Select((v, l) => FormattableString.Invariant($"{l},{v:R}\n"))));
            return profile;
        }
    }
}
