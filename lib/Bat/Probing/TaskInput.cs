using Bat.Data;
using Bat.Frontends;
using Bat.Model;
using Bat.Training;

namespace Bat.Probing;

/// <summary>
/// What a checkpoint's encoder is fed for one downstream task: the run's frontend at the task's own length
/// (<see cref="TaskRecipe.FramesFor"/>, not the pre-training length) and, for the kaldi kinds, normalised with
/// the task's own constants (mean and std of the log-mel values of its train split, as EAT does for ESC-50 and
/// SC-v2) instead of the pre-training set's. The BAT frontend normalises each clip itself (min-max) and has none.
/// </summary>
public sealed record TaskInput(FrontendConfig Frontend, int Frames, int Tokens)
{
    /// <summary>The file in a cache folder that keeps a task's constants (measuring them reads all of train).</summary>
    public static string NormFile(string cacheDir, string kind, int melBins) => Path.Combine(cacheDir, $"norm-{kind}-{melBins}.json");

    public Featurizer Featurizer() => Data.Featurizer.From(Frontends.Frontend.Create(Frontend));

    /// <summary>
    /// The input of <paramref name="manifest"/>'s task for a checkpoint. The task's normalisation constants are
    /// read from <paramref name="cacheDir"/> when measured before for this manifest, else measured on its train
    /// split (and kept there when a folder is given).
    /// </summary>
    public static TaskInput For(CheckpointSource source, Manifest manifest, string? cacheDir)
    {
        var encoder = source.Encoder;
        var run = source.Frontend;
        int frames = TaskRecipe.FramesFor(manifest.Task, run.Kind, encoder);
        var frontend = run with { TargetFrames = frames };
        if (run.Kind != FrontendConfig.Bat)
        {
            var norm = TaskNorm(manifest, run.Kind, run.MelBins, cacheDir);
            frontend = frontend with { NormMean = norm.Mean, NormStd = norm.Std, NormName = norm.Name };
        }
        return new TaskInput(frontend, frames, 1 + frames / encoder.PatchSize * encoder.GridFreq);
    }

    /// <summary>The kaldi-kind constants of a task's train split (cached per manifest content in <paramref name="cacheDir"/>).</summary>
    public static NormConstants TaskNorm(Manifest manifest, string kind, int melBins, string? cacheDir)
    {
        if (!manifest.Splits.Contains(ProbeExperiment.TrainSplit))
            throw new BatException(manifest.CsvPath, $"the task's normalisation constants are measured on its '{ProbeExperiment.TrainSplit}' split, which it lacks");
        string source = $"{Manifest.Fingerprint(manifest.CsvPath)} {ProbeExperiment.TrainSplit} split";
        var path = cacheDir is null ? null : NormFile(cacheDir, kind, melBins);
        if (path is not null && File.Exists(path))
        {
            var cached = Json.Load<NormConstants>(path);
            if (cached.Source == source && cached.Kind == kind && cached.MelBins == melBins) return cached;
        }
        var files = manifest.Split(ProbeExperiment.TrainSplit).Select(e => e.FullPath).ToList();
        var stats = FrontendStats.Measure(new KaldiFrontend(FrontendConfig.Unnormalised(kind, melBins)), files);
        var constants = new NormConstants(kind, $"task:{manifest.Task.Name}/{ProbeExperiment.TrainSplit}", melBins, stats.Mean, stats.Std, source);
        if (path is not null)
        {
            Directory.CreateDirectory(cacheDir!);
            Json.Save(path, constants);
        }
        return constants;
    }
}
