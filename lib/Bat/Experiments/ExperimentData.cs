using Bat.Data;
using Bat.Data.Synth;

namespace Bat.Experiments;

/// <summary>
/// The data notebooks 02-04 run on, from their <c>Data</c> parameter (<c>bat reproduce --data</c>):
/// <list type="bullet">
/// <item><c>synth</c>: the embedded benchmark, made on demand under {OutDir}/data/synth. Its multi-label task is
/// both the pre-training set (train split) and the one probing task.</item>
/// <item><c>synth-wide</c>: the embedded benchmark as above, plus a second probing task that can tell two encoders
/// apart: the same generator at another seed (3000 clips, under {OutDir}/data/synth-wide), keeping as many training
/// clips as the embedded benchmark has and 200 validation clips, scored on all 450 test clips (docs/method.md
/// section 6; the embedded benchmark's 60 test clips give a noise band of about ±10 points).</item>
/// <item>A folder of manifests written by <c>bat data manifest ...</c> (NAME.csv with NAME.json beside it, in
/// the folder or one level below, as build-offline-benchmark.sh leaves them; other CSVs are ignored).
/// <c>pretrain.csv</c>, when present, is the pre-training set (its train split, labels unused); every other
/// manifest is a probing task with train and test splits. Tasks are taken in order of their path relative
/// to the folder and the first is the primary task: Figure 2 and notebook 04 run on it, and without
/// pretrain.csv the encoders are pre-trained on its train split, as with the benchmark. Event-labelled manifests
/// (sound event detection, e.g. a HEAR event task) are left out: the notebooks run clip-level probes and
/// fine-tuning; `bat probe` runs the event recipe on them.</item>
/// </list>
/// Everything is checked here, before any long work: a missing folder, a malformed manifest, a task without a
/// test split or a missing audio file is an error naming the file. A folder passes the check once per process
/// while its manifests are unchanged (`bat reproduce` checks it, then notebooks 02-04 open it again).
/// </summary>
public sealed record ExperimentData(string Source, string PretrainManifest, IReadOnlyList<string> ProbeManifests)
{
    public const string Synth = "synth", SynthWide = "synth-wide";
    /// <summary>The wide benchmark: clips generated per task, their seed, and the validation clips kept.</summary>
    public const int WideClips = 3000, WideSeed = 1, WideValidation = 200;
    public const string PretrainFileName = "pretrain.csv";
    static readonly string[] ProbeSplits = ["train", "test"];

    /// <summary>Folders already checked, by the state of their manifests (paths and modification times).</summary>
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, ExperimentData> Checked = new();

    /// <summary>The task of Figure 2 and notebook 04 (the first probing manifest).</summary>
    public string PrimaryTask => ProbeManifests[0];

    public static ExperimentData Resolve(string data, string outDir, Preset preset)
    {
        if (!IsGenerated(data)) return FromFolder(data);
        var layout = new OutputLayout(outDir);
        var synth = SyntheticBenchmark.Ensure(layout.SynthData, preset.SynthClips, seed: 0).MultiLabel;
        if (data != SynthWide) return new ExperimentData(Synth, synth, [synth]);
        int train = Manifest.Load(synth).Split("train").Count;
        return new ExperimentData(SynthWide, synth, [synth, EnsureWide(layout.SynthWideData, WideClips, train, WideValidation)]);
    }

    /// <summary>Whether <paramref name="data"/> names data the suite generates itself rather than a folder.</summary>
    public static bool IsGenerated(string data) => string.IsNullOrWhiteSpace(data) || data is Synth or SynthWide;

    /// <summary>
    /// The wide benchmark's manifest (DIR/synth-wide.csv): the synthetic multi-label task at seed 1 with
    /// <paramref name="clips"/> clips, its first <paramref name="train"/> training and <paramref name="validation"/>
    /// validation rows, every test row. Made once; remade when the generated manifest is newer than it.
    /// </summary>
    public static string EnsureWide(string dir, int clips, int train, int validation)
    {
        var source = SyntheticBenchmark.Ensure(dir, clips, WideSeed).MultiLabel;
        var wide = Path.Combine(Path.GetDirectoryName(source)!, SynthWide + ".csv");
        if (!File.Exists(wide) || !File.Exists(Manifest.SidecarPath(wide)) || File.GetLastWriteTimeUtc(wide) < File.GetLastWriteTimeUtc(source))
            ManifestSubset.Write(source, wide, new Dictionary<string, int> { ["train"] = train, ["valid"] = validation });
        return wide;
    }

    public static ExperimentData FromFolder(string folder)
    {
        var dir = Path.GetFullPath(folder);
        if (!Directory.Exists(dir))
            throw new BatException(dir, "no such folder: --data takes 'synth' or a folder of manifests made by `bat data ...`");
        var manifests = Directory.EnumerateFiles(dir, "*.csv")
            .Concat(Directory.EnumerateDirectories(dir).SelectMany(sub => Directory.EnumerateFiles(sub, "*.csv")))
            .Where(csv => File.Exists(Manifest.SidecarPath(csv)))
            .OrderBy(csv => Path.GetRelativePath(dir, csv).Replace('\\', '/'), StringComparer.Ordinal)
            .ToList();
        var state = string.Join("\n", manifests.Select(m =>
            $"{m} {File.GetLastWriteTimeUtc(m).Ticks} {File.GetLastWriteTimeUtc(Manifest.SidecarPath(m)).Ticks}"));
        if (Checked.TryGetValue(state, out var known)) return known;
        var pretrainSets = manifests.Where(m => Path.GetFileName(m) == PretrainFileName).ToList();
        if (pretrainSets.Count > 1)
            throw new BatException(dir, $"more than one {PretrainFileName}: {string.Join(", ", pretrainSets)}; keep the one to pre-train on");
        var pretrain = pretrainSets.SingleOrDefault();
        var tasks = manifests.Where(m => m != pretrain && !Json.Load<TaskInfo>(Manifest.SidecarPath(m)).HasEvents).ToList();
        if (tasks.Count == 0)
            throw new BatException(dir, "no probing task here: expected manifests NAME.csv with their NAME.json sidecar, in the folder " +
                                        "or one level below (bat data manifest esc50|speechcommands|audioset|hear writes them), besides an optional pretrain.csv " +
                                        "(event-labelled manifests do not count: run `bat probe` on them)");

        foreach (var csv in manifests)
        {
            var manifest = Manifest.Load(csv, checkAudio: true);
            if (manifest.Entries.Count == 0) throw new BatException(csv, "the manifest has no rows");
            if (csv != pretrain)
            {
                var missing = ProbeSplits.Where(s => !manifest.Splits.Contains(s)).ToList();
                if (missing.Count > 0)
                    throw new BatException(csv, $"a probing task needs '{string.Join("' and '", ProbeSplits)}' splits; missing '{string.Join("', '", missing)}' " +
                                                $"(splits: {string.Join(", ", manifest.Splits)}). A pre-training set goes in {PretrainFileName}");
            }
        }
        return Checked[state] = new ExperimentData(dir, pretrain ?? tasks[0], tasks);
    }

    /// <summary>One line per manifest and its role, for the notebooks to print.</summary>
    public IEnumerable<string> Describe()
    {
        yield return $"pre-training: {PretrainManifest}";
        for (int i = 0; i < ProbeManifests.Count; i++)
            yield return $"task {i + 1}{(i == 0 ? " (primary: Figure 2, notebook 04)" : "")}: {ProbeManifests[i]}";
    }
}
