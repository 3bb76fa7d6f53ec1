using Bat.Data;
using Bat.Frontends;
using TorchSharp;
using static TorchSharp.torch;

namespace Bat.Probing;

/// <summary>
/// The non-learned reference every encoder must beat: per mel band, the mean and the standard deviation over time
/// of the clip's spectrogram (2M numbers, z-scored with the train split's statistics), fed to the linear probe
/// (LayerNorm -> dropout -> Linear, i.e. logistic regression: softmax for single-label tasks, sigmoid otherwise),
/// trained and selected on validation exactly like the probes on frozen encoders. It costs seconds, and an encoder
/// whose probes do not beat it has learnt nothing a spectrogram summary does not already say.
/// </summary>
public static class LogMelBaseline
{
    public const string Name = "logmel-lr";

    /// <summary>Whether the baseline can read a task: it summarises whole clips, so not an event-labelled one (sound
    /// event detection scores frames).</summary>
    public static bool Reads(TaskInfo task) => !task.HasEvents;

    /// <summary>The task as the probes see it: one "layer" whose CLS is the clip's log-mel statistics.</summary>
    public static ProbeTask Open(string manifestCsv, FrontendConfig frontend)
    {
        var manifest = Manifest.Load(manifestCsv);
        if (!Reads(manifest.Task))
            throw new BatException(manifestCsv, "the log-mel baseline summarises whole clips; an event-labelled task needs a frame-wise probe");
        ProbeExperiment.RequireProbingSplits(manifest, manifestCsv);
        var spectrogram = Frontend.Create(frontend);
        Tensor Statistics(string split)
        {
            var loader = new FeatureLoader(manifest, split, spectrogram, LoaderOptions.Eval(16, frontend.TargetFrames));
            var parts = new List<Tensor>();
            foreach (var batch in loader.Epoch())
            {
                using var b = batch;
                parts.Add(BandStatistics.Of(b.Features));                                      // (B, 1, T, M) -> (B, 2M)
            }
            var all = cat(parts, 0);
            foreach (var p in parts) p.Dispose();
            return all;
        }
        using var trainStats = Statistics(ProbeExperiment.TrainSplit);
        using var mean = trainStats.mean([0], keepdim: true);
        using Scalar floor = 1e-6;   // kept alive for the call: see ScalarLifetimeGuardTests
        using var std = trainStats.std(0, unbiased: false, keepdim: true).clamp_min(floor);
        EmbeddingSplit Split(string split, Tensor? stats = null)
        {
            using var raw = stats is null ? Statistics(split) : null;
            var z = (stats ?? raw!).sub(mean).div(std);                                      // (N, 2M)
            var cls = z.unsqueeze(1);                                                          // (N, 1, 2M): one "layer"
            var patches = zeros(cls.shape[0], 1, 0, cls.shape[2]);                            // no patch tokens
            return new EmbeddingSplit(new TensorEmbeddingSource(cls, patches), manifest.LabelMatrix(manifest.Split(split)));
        }
        var train = Split(ProbeExperiment.TrainSplit, trainStats);
        var validationName = ProbeExperiment.ValidationSplit(manifest);
        return new ProbeTask(manifest.Task.Name, manifest.Task.Kind == TaskKind.Multilabel, train,
            validationName is null ? null : Split(validationName), Split(ProbeExperiment.TestSplit));
    }

    /// <summary>Trains the baseline with the probes' schedule and returns its test metrics (probe name "logmel-lr").</summary>
    public static ProbeRunResult Run(string manifestCsv, FrontendConfig frontend, ProbeTrainingConfig config)
    {
        var task = Open(manifestCsv, frontend);
        return ProbeExperiment.Run(task, "lp", prototypes: 1, config) with { Probe = Name };
    }
}
