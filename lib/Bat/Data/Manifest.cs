using System.Globalization;
using Bat.Metrics;
using CsvHelper;

namespace Bat.Data;

/// <summary>Multi-label tasks use sigmoid targets and mAP; multi-class tasks use softmax and accuracy.</summary>
public enum TaskKind { Multilabel, Multiclass }

/// <summary>
/// The metrics by their names in the results, and each task kind's main metric (docs/method.md section 5): the
/// score that picks the best validation checkpoint and that the tables report.
/// </summary>
public static class TaskMetric
{
    public const string MeanAveragePrecision = "map", Accuracy = "accuracy", MacroF1 = "f1_macro";

    public static string MainFor(TaskKind kind) => kind == TaskKind.Multilabel ? MeanAveragePrecision : Accuracy;
}

/// <summary>
/// The JSON sidecar of a manifest: what the labels mean and how the task is scored.
/// <see cref="Classes"/> fixes the column order of every target matrix built from the manifest.
/// <see cref="AudioRoots"/> are the folders (relative to the manifest's folder, or absolute) its audio may lie in
/// (null: the manifest's own folder); <see cref="AllowLeakage"/> accepts the same audio in two splits.
/// <see cref="Events"/> makes it an event-labelled (sound event detection) task: the events CSV (relative to the
/// manifest's folder, see <see cref="SoundEvents"/>) gives each clip its timed events; the rows' labels are then
/// the classes present, and the task follows the official DCASE 2016 task 2 recipe (frame-wise CGP).
/// </summary>
public sealed record TaskInfo(
    string Name,
    TaskKind Kind,
    IReadOnlyList<string> Classes,
    int SampleRate = 16000,
    double ClipSeconds = 10,
    string Metric = "mAP",
    IReadOnlyList<string>? AudioRoots = null,
    bool AllowLeakage = false,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    string? Events = null)
{
    public int NumClasses => Classes.Count;

    /// <summary>Whether the clips come with timed events (a sound event detection task).</summary>
    public bool HasEvents => Events is not null;
}

/// <summary>
/// One row of a manifest CSV. <see cref="Path"/> is as written (relative to the audio root);
/// <see cref="FullPath"/> is resolved against the root the manifest was loaded with.
/// <see cref="Row"/> is the 1-based line in the CSV file, so errors can point at it. Fold 0 means "no fold".
/// </summary>
public sealed record ManifestEntry(string Path, IReadOnlyList<string> Labels, string Split, int Fold = 0)
{
    public string FullPath { get; init; } = Path;
    public int Row { get; init; }
}

/// <summary>
/// A labelled audio list: CSV <c>path,labels,split,fold</c> (labels joined by ';') plus a JSON sidecar of the
/// same name (<c>x.csv</c> -> <c>x.json</c>) holding the <see cref="TaskInfo"/>. See data-manifests/README.md.
/// Loading is strict, because results on a wrong manifest are silently wrong: text must be UTF-8, a path may
/// appear once, the same audio in two splits (by path, and with <c>checkAudio</c> by content) is leakage, and
/// every path must lie inside the audio roots.
/// </summary>
public sealed class Manifest
{
    public const char LabelSeparator = ';';
    static readonly string[] Columns = ["path", "labels", "split", "fold"];

    public string CsvPath { get; }
    public string AudioRoot { get; }
    public TaskInfo Task { get; }
    public IReadOnlyList<ManifestEntry> Entries { get; }

    readonly Dictionary<string, int> _classIndex;
    readonly Dictionary<string, List<SoundEvent>>? _events;   // by the path as written; null unless the task has events

    Manifest(string csvPath, string audioRoot, TaskInfo task, IReadOnlyList<ManifestEntry> entries, Dictionary<string, List<SoundEvent>>? events)
    {
        CsvPath = csvPath;
        AudioRoot = audioRoot;
        Task = task;
        Entries = entries;
        _classIndex = ClassIndex(task, SidecarPath(csvPath));
        _events = events;
    }

    /// <summary>The events CSV of an event-labelled task (<see cref="TaskInfo.Events"/> resolved against the manifest's folder), or null.</summary>
    public string? EventsPath => Task.Events is { } file ? System.IO.Path.GetFullPath(file, System.IO.Path.GetDirectoryName(CsvPath)!) : null;

    /// <summary>An entry's annotated events (empty for a clip without any); only for an event-labelled task.</summary>
    public IReadOnlyList<SoundEvent> EventsOf(ManifestEntry entry) =>
        _events is null ? throw new BatException(SidecarPath(CsvPath), "the task has no events (no \"events\" CSV named in the sidecar)")
        : _events.TryGetValue(entry.Path, out var list) ? list : [];

    /// <summary>
    /// The frame targets of the given entries as one (N, T, C) float tensor: patch t of clip n is active for class c
    /// when an event of c covers t * <paramref name="patchMs"/> (<see cref="SoundEvents.FrameTargets"/>).
    /// </summary>
    public TorchSharp.torch.Tensor FrameTargetMatrix(IReadOnlyList<ManifestEntry> entries, int timePatches, int patchMs)
    {
        int c = Task.NumClasses, block = timePatches * c;
        var values = new float[entries.Count * block];
        for (int i = 0; i < entries.Count; i++)
            SoundEvents.FrameTargets(EventsOf(entries[i]), IndexOf, c, timePatches, patchMs).CopyTo(values, i * block);
        return TorchSharp.torch.tensor(values, entries.Count, timePatches, c);
    }

    public static string SidecarPath(string csvPath) => System.IO.Path.ChangeExtension(csvPath, ".json");

    /// <summary>SHA-256 of the CSV and its sidecar: any change to rows, labels or task gives another value.</summary>
    public static string Sha256(string csvPath) => FileHash.Sha256(csvPath, SidecarPath(csvPath));

    /// <summary>"name.csv sha256:0123456789ab": which data a run used, recorded in its config.</summary>
    public static string Fingerprint(string csvPath) => $"{System.IO.Path.GetFileName(csvPath)} sha256:{Sha256(csvPath)[..12]}";

    /// <summary>Entries of one split ("train", "valid", "test"), in file order.</summary>
    public IReadOnlyList<ManifestEntry> Split(string split) => Entries.Where(e => e.Split == split).ToList();

    /// <summary>The split names present, in first-seen order.</summary>
    public IReadOnlyList<string> Splits => Entries.Select(e => e.Split).Distinct().ToList();

    /// <summary>Class index of a label (throws a BatException naming the sidecar for unknown labels).</summary>
    public int IndexOf(string label) =>
        _classIndex.TryGetValue(label, out var i) ? i : throw new BatException(SidecarPath(CsvPath), $"unknown label '{label}'");

    /// <summary>Class indices of an entry's labels, in the order written.</summary>
    public int[] LabelIndices(ManifestEntry entry) => entry.Labels.Select(IndexOf).ToArray();

    /// <summary>An entry's labels as a vector over the task's classes (C): multi-hot, or one-hot for a multi-class task.</summary>
    public float[] LabelVector(ManifestEntry entry)
    {
        var vector = new float[Task.NumClasses];
        foreach (var k in LabelIndices(entry)) vector[k] = 1;
        return vector;
    }

    /// <summary>The label vectors of the given entries as one (N, C) float tensor, in their order.</summary>
    public TorchSharp.torch.Tensor LabelMatrix(IReadOnlyList<ManifestEntry> entries)
    {
        var values = new float[entries.Count * Task.NumClasses];
        for (int i = 0; i < entries.Count; i++) LabelVector(entries[i]).CopyTo(values, i * Task.NumClasses);
        return TorchSharp.torch.tensor(values, entries.Count, Task.NumClasses);
    }

    /// <summary>Every entry whose audio file is missing, as a BatException naming the first (row and file).</summary>
    public void CheckAudioFiles()
    {
        var missing = Entries.Where(e => !File.Exists(e.FullPath)).ToList();
        if (missing.Count == 0) return;
        var first = missing[0];
        throw new BatException(CsvPath,
            $"line {first.Row}: audio file not found: {first.FullPath}" + (missing.Count > 1 ? $" (and {missing.Count - 1} more)" : ""));
    }

    /// <summary>
    /// Reads a manifest. Paths are relative to <paramref name="audioRoot"/> (default: the CSV's folder) and must lie
    /// inside it, or inside one of the sidecar's <see cref="TaskInfo.AudioRoots"/>, unless <paramref name="allowOutsideRoot"/>.
    /// Validates the text (strict UTF-8), the header, every row (fold is an integer, split is set, labels are in the
    /// sidecar's class list, no path twice), the sidecar, and leakage: the same path in two splits, and with
    /// <paramref name="checkAudio"/> (every file must exist) the same content, is an error unless
    /// <paramref name="allowLeakage"/> or the sidecar's <see cref="TaskInfo.AllowLeakage"/>.
    /// </summary>
    public static Manifest Load(string csvPath, string? audioRoot = null, bool checkAudio = false,
        bool allowLeakage = false, bool allowOutsideRoot = false)
    {
        csvPath = System.IO.Path.GetFullPath(csvPath);
        if (Directory.Exists(csvPath)) throw new BatException(csvPath, "is a folder, expected a manifest CSV");
        if (!File.Exists(csvPath)) throw new BatException(csvPath, "manifest not found");
        var sidecar = SidecarPath(csvPath);
        if (!File.Exists(sidecar)) throw new BatException(sidecar, "manifest sidecar (task JSON) not found");
        var task = Json.Load<TaskInfo>(sidecar);
        ValidateTask(task, sidecar);
        var classes = ClassIndex(task, sidecar);
        var csvFolder = System.IO.Path.GetDirectoryName(csvPath)!;
        var root = System.IO.Path.GetFullPath(audioRoot ?? csvFolder);
        // Where audio may lie: an explicit root, else the roots the sidecar names (relative to the manifest), else its folder.
        var allowedRoots = audioRoot is not null || task.AudioRoots is null
            ? new List<string> { root }
            : task.AudioRoots.Select(r => System.IO.Path.GetFullPath(r, csvFolder)).ToList();
        allowLeakage |= task.AllowLeakage;

        var entries = new List<ManifestEntry>();
        var firstRow = new Dictionary<string, ManifestEntry>(StringComparer.Ordinal);
        StrictUtf8.GuardCsv(csvPath, () =>
        {
            using (var csv = CsvReader.FromFile(csvPath, CsvFiles.ReaderOptions))
            {
                var header = csv.Headers;
                if (header.Count == 0) throw new BatException(csvPath, "empty file (expected header path,labels,split,fold)");
                foreach (var column in Columns)
                    if (!header.Contains(column))
                        throw new BatException(csvPath, $"missing column '{column}' (header is '{string.Join(",", header)}', expected path,labels,split,fold)");
                while (csv.Read())
                {
                    int row = (int)csv.LineNumber;
                    string path = csv.GetString("path") ?? "";
                    string labelText = csv.GetString("labels") ?? "";
                    string split = csv.GetString("split") ?? "";
                    string foldText = csv.GetString("fold") ?? "";
                    if (path.Length == 0) throw new BatException(csvPath, $"line {row}: empty path");
                    if (split.Length == 0) throw new BatException(csvPath, $"line {row}: empty split");
                    int fold = 0;
                    if (foldText.Length > 0 && !int.TryParse(foldText, NumberStyles.Integer, CultureInfo.InvariantCulture, out fold))
                        throw new BatException(csvPath, $"line {row}: fold '{foldText}' is not an integer");
                    var labels = labelText.Length == 0 ? [] : labelText.Split(LabelSeparator);
                    foreach (var label in labels)
                        if (!classes.ContainsKey(label))
                            throw new BatException(csvPath, $"line {row}: unknown label '{label}' (not in the class list of {System.IO.Path.GetFileName(sidecar)})");
                    if (task.Kind == TaskKind.Multiclass && labels.Length != 1)
                        throw new BatException(csvPath, $"line {row}: a multiclass task needs exactly one label, got {labels.Length}");
                    if (path.Contains('\0')) throw new BatException(csvPath, $"line {row}: the path contains a NUL character");
                    var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, path));
                    if (!allowOutsideRoot && !allowedRoots.Any(r => IsInside(full, r)))
                        throw new BatException(csvPath, $"line {row}: '{path}' lies outside the audio root {string.Join(" and ", allowedRoots)}; " +
                                                        $"list the folder in \"audioRoots\" of {System.IO.Path.GetFileName(sidecar)}, or pass --allow-outside-root");
                    var entry = new ManifestEntry(path, labels, split, fold) { FullPath = full, Row = row };
                    if (firstRow.TryGetValue(full, out var earlier))
                    {
                        if (earlier.Split == split) throw new BatException(csvPath, $"line {row}: '{path}' is listed twice (also on line {earlier.Row})");
                        if (!allowLeakage) throw Leakage(csvPath, sidecar, $"line {row} ({split}) and line {earlier.Row} ({earlier.Split}) list the same file '{path}'");
                    }
                    else firstRow[full] = entry;
                    entries.Add(entry);
                }
            }
        });
        Dictionary<string, List<SoundEvent>>? events = null;
        if (task.Events is { } eventsFile)
            events = SoundEvents.Load(System.IO.Path.GetFullPath(eventsFile, csvFolder), entries.Select(e => e.Path).ToHashSet(StringComparer.Ordinal),
                classes.Keys.ToHashSet(StringComparer.Ordinal));
        var manifest = new Manifest(csvPath, root, task, entries, events);
        if (checkAudio)
        {
            manifest.CheckAudioFiles();
            if (!allowLeakage) manifest.CheckContentLeakage();
        }
        return manifest;
    }

    /// <summary>True when <paramref name="fullPath"/> lies in the folder <paramref name="root"/> (both full paths).</summary>
    public static bool IsInside(string fullPath, string root)
    {
        var prefix = root.EndsWith(System.IO.Path.DirectorySeparatorChar) ? root : root + System.IO.Path.DirectorySeparatorChar;
        return fullPath.StartsWith(prefix, StringComparison.Ordinal);
    }

    static BatException Leakage(string csvPath, string sidecar, string what) =>
        new(csvPath, $"{what}: the same audio in two splits leaks test data into training; remove one, or if this is intended " +
                     $"pass --allow-leakage or set \"allowLeakage\": true in {System.IO.Path.GetFileName(sidecar)}");

    /// <summary>
    /// The same audio content under different paths in two splits (a copy of a test clip in train) as a BatException
    /// naming both lines. Files are grouped by length and a hash of their first 16 KB, and only files sharing both
    /// with a file of another split are hashed in full, so a dataset of distinct clips costs one small read each.
    /// </summary>
    public void CheckContentLeakage()
    {
        var byPrefix = new Dictionary<string, List<ManifestEntry>>(StringComparer.Ordinal);
        foreach (var e in Entries.DistinctBy(e => e.FullPath))
        {
            var key = PrefixKey(e.FullPath);
            if (!byPrefix.TryGetValue(key, out var list)) byPrefix[key] = list = [];
            list.Add(e);
        }
        foreach (var group in byPrefix.Values.Where(g => g.Select(e => e.Split).Distinct().Count() > 1))
        {
            var byContent = group.GroupBy(e => FileHash.Sha256(e.FullPath));
            foreach (var same in byContent)
            {
                var first = same.First();
                var other = same.FirstOrDefault(e => e.Split != first.Split);
                if (other is not null)
                    throw Leakage(CsvPath, SidecarPath(CsvPath),
                        $"line {other.Row} ({other.Split}) '{other.Path}' and line {first.Row} ({first.Split}) '{first.Path}' have identical content");
            }
        }
    }

    static string PrefixKey(string path)
    {
        using var stream = File.OpenRead(path);
        var head = new byte[16 << 10];
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return $"{stream.Length}:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(head.AsSpan(0, n)))}";
    }

    /// <summary>Writes the CSV and its sidecar atomically. Labels must be in the task's class list.</summary>
    public static void Save(string csvPath, TaskInfo task, IEnumerable<ManifestEntry> entries)
    {
        using var batch = new AtomicBatch();
        Save(batch, csvPath, task, entries);
        batch.Commit();
    }

    /// <summary>Checks and stages the CSV and its sidecar in <paramref name="batch"/>: written only when the batch commits.</summary>
    public static void Save(AtomicBatch batch, string csvPath, TaskInfo task, IEnumerable<ManifestEntry> entries)
    {
        var sidecar = SidecarPath(csvPath);
        ValidateTask(task, sidecar);
        var classes = ClassIndex(task, sidecar);
        var rows = entries.ToList();
        for (int i = 0; i < rows.Count; i++)
            foreach (var label in rows[i].Labels)
                if (!classes.ContainsKey(label))
                    throw new BatException(csvPath, $"line {i + 2}: unknown label '{label}' (not in the task's class list)");
        CsvFiles.Write(batch, csvPath, Columns, rows.Select(e => new[]
        {
            e.Path.Replace('\\', '/'), string.Join(LabelSeparator, e.Labels), e.Split, e.Fold.ToString(CultureInfo.InvariantCulture),
        }));
        batch.WriteAllText(sidecar, Json.Serialize(task) + "\n");
    }

    static void ValidateTask(TaskInfo task, string sidecar)
    {
        if (string.IsNullOrWhiteSpace(task.Name)) throw new BatException(sidecar, "task name is empty");
        if (task.Classes is null || task.Classes.Count == 0) throw new BatException(sidecar, "class list is empty");
        if (task.SampleRate <= 0) throw new BatException(sidecar, $"sample rate {task.SampleRate} must be positive");
        if (!(task.ClipSeconds > 0)) throw new BatException(sidecar, $"clip seconds {task.ClipSeconds} must be positive");
        if (!Enum.IsDefined(task.Kind)) throw new BatException(sidecar, $"kind {(int)task.Kind} is not multilabel or multiclass");
        if (task.Metric is null) throw new BatException(sidecar, "metric is missing");
        if (task.AudioRoots is not null && task.AudioRoots.Any(string.IsNullOrEmpty)) throw new BatException(sidecar, "audioRoots lists an empty folder");
        if (task.Events is { Length: 0 }) throw new BatException(sidecar, "events names no file");
        if (task.Events is not null && task.Kind != TaskKind.Multilabel)
            throw new BatException(sidecar, "an event-labelled task (\"events\") is multilabel: its rows list the classes present");
        foreach (var c in task.Classes)
            if (string.IsNullOrEmpty(c) || c.Contains(LabelSeparator))
                throw new BatException(sidecar, $"class name '{c}' is empty or contains '{LabelSeparator}'");
    }

    static Dictionary<string, int> ClassIndex(TaskInfo task, string sidecar)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < task.Classes.Count; i++)
            if (!index.TryAdd(task.Classes[i], i)) throw new BatException(sidecar, $"class '{task.Classes[i]}' is listed twice");
        return index;
    }
}
