using Bat.Data;
using Bat.Frontends;
using static TorchSharp.torch;

namespace Bat.Pretraining;

/// <summary>Pre-training clips from a manifest: the frontend config of a run and the featurized train split.</summary>
public static class PretrainData
{
    /// <summary>
    /// The frontend a run trains with. "bat" needs no constants. The kaldi kinds take the AudioSet constants of
    /// data-manifests/frontend-norm.json when it has them for this number of mel bins (128); otherwise (e.g. the
    /// 64-bin tiny preset) the mean/std are measured on the manifest's train split, as EAT did for its data,
    /// and recorded in the config (NormName "measured:...").
    /// </summary>
    public static FrontendConfig FrontendFor(string kind, int melBins, int frames, string manifestPath)
    {
        if (kind == FrontendConfig.Bat) return FrontendConfig.For(kind, melBins, frames);
        try
        {
            return FrontendConfig.For(kind, melBins, frames);
        }
        catch (BatException)
        {
            var manifest = Manifest.Load(manifestPath);
            var files = TrainEntries(manifest).Select(e => e.FullPath).ToList();
            var stats = FrontendStats.Measure(new KaldiFrontend(FrontendConfig.Unnormalised(kind, melBins, frames)), files);
            return new FrontendConfig(kind, melBins, frames, stats.Mean, stats.Std, $"measured:{Path.GetFileName(manifestPath)}/train");
        }
    }

    /// <summary>The train split, or every clip when the manifest has no split called "train".</summary>
    static IReadOnlyList<ManifestEntry> TrainEntries(Manifest manifest) =>
        manifest.Splits.Contains("train") ? manifest.Split("train") : manifest.Entries;

    /// <summary>
    /// Featurizes the train split once into a temporary file, (clips, 1, frames, mel) float32 (128 KB per 5 s tiny
    /// clip), that every step reads its batch from (<see cref="FileClipSource"/>): resident memory does not grow
    /// with the dataset. Each clip is cut or zero-padded to <paramref name="frames"/>, which may be longer than the
    /// input (PretrainConfig.FramesPerClip: the trainer then draws windows from it). <paramref name="cacheDir"/>
    /// keeps the features of each clip on disk between runs.
    /// </summary>
    public static FileClipSource Load(string manifestPath, FrontendConfig frontend, int frames, string? cacheDir = null)
    {
        var manifest = Manifest.Load(manifestPath);
        // Keeping more than the input is for clips longer than the input: beyond a clip's end the windows would be padding.
        int clipFrames = Frontend.FrameCount(frontend.Kind, (int)Math.Round(manifest.Task.ClipSeconds * FrontendConfig.SampleRate));
        if (frames > (frontend.TargetFrames ?? frames) && frames > clipFrames)
            throw new BatException(manifestPath, $"its clips are {manifest.Task.ClipSeconds:G4} s, {clipFrames} frames: keeping {frames} frames of each " +
                $"would draw windows from zero padding (keep at most {clipFrames}, or the input's {frontend.TargetFrames})");
        frontend = frontend with { TargetFrames = frames };   // the frontend's own cut, at the stored length
        string split = manifest.Splits.Contains("train") ? "train" : manifest.Splits[0];
        if (!manifest.Splits.Contains("train") && manifest.Splits.Count > 1)
            throw new BatException(manifestPath, $"has no 'train' split (splits: {string.Join(", ", manifest.Splits)})");
        var loader = new FeatureLoader(manifest, split, Frontend.Create(frontend),
            LoaderOptions.Eval(16, frames) with { CacheDir = cacheDir, Progress = true });
        IEnumerable<Tensor> Features()
        {
            foreach (var batch in loader.Epoch())
                using (batch) yield return batch.Features;
        }
        return FileClipSource.Create(Features(), [1, frames, frontend.MelBins]);
    }
}
