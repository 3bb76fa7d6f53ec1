using CsvHelper;

namespace Bat.Data.Builders;

/// <summary>
/// AudioSet segment lists (balanced_train / eval / unbalanced_train_segments.csv: three '#' header lines, rows
/// <c>YTID, start_seconds, end_seconds, "mid,mid"</c>) + class_labels_indices.csv (index,mid,display_name) ->
/// one 527-class multi-label manifest (class names = display names, in index order). Audio is not distributed,
/// so a path pattern locates local copies: {root}, {ytid}, {start}, {end} (start/end formatted as in the CSV,
/// e.g. 30.000). Segments whose file is missing are left out, listed in a report CSV and counted.
/// </summary>
public static class AudioSetBuilder
{
    public sealed record Source(string SegmentsCsv, string Split);
    public sealed record Result(string Manifest, int Found, int Missing, string? MissingReport);

    static readonly CsvReaderOptions SegmentOptions = CsvReaderOptions.Default with
    {
        Separator = ',', HasHeader = false, CommentPrefix = '#', TrimWhitespace = true, TrackLineNumbers = true,
    };

    /// <summary>Split of a segment file by its name: "eval" -> test, else train.</summary>
    public static string DefaultSplit(string segmentsCsv) =>
        Path.GetFileName(segmentsCsv).Contains("eval", StringComparison.OrdinalIgnoreCase) ? "test" : "train";

    /// <summary>(mid -> display name) and the class list in index order.</summary>
    public static (Dictionary<string, string> NameOfMid, List<string> Classes) ReadLabels(string labelsCsv)
    {
        var rows = new List<(int Index, string Mid, string Name)>();
        BuilderUtil.ReadCsv(labelsCsv, ["index", "mid", "display_name"], (csv, line) =>
            rows.Add((BuilderUtil.ParseInt(labelsCsv, line, "index", csv.GetString("index")), csv.GetString("mid") ?? "",
                csv.GetString("display_name") ?? "")));
        rows.Sort((a, b) => a.Index.CompareTo(b.Index));
        for (int i = 0; i < rows.Count; i++)
            if (rows[i].Index != i) throw new BatException(labelsCsv, $"indices are not 0..{rows.Count - 1} (found {rows[i].Index} at position {i})");
        var nameOfMid = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var r in rows)
            if (!nameOfMid.TryAdd(r.Mid, r.Name)) throw new BatException(labelsCsv, $"mid '{r.Mid}' is listed twice");
        return (nameOfMid, rows.Select(r => r.Name).ToList());
    }

    public static string ExpandPattern(string pattern, string root, string ytid, string start, string end) =>
        pattern.Replace("{root}", root).Replace("{ytid}", ytid).Replace("{start}", start).Replace("{end}", end);

    public static Result Build(IReadOnlyList<Source> sources, string labelsCsv, string audioPattern, string outCsv,
        string? audioRoot = null, string taskName = "audioset")
    {
        if (sources.Count == 0) throw new ArgumentException("no segment CSV given");
        if (!audioPattern.Contains("{ytid}")) throw new BatException(audioPattern, "audio pattern must contain {ytid}");
        outCsv = Path.GetFullPath(outCsv);
        var outDir = Path.GetDirectoryName(outCsv)!;
        var (nameOfMid, classes) = ReadLabels(labelsCsv);
        var entries = new List<ManifestEntry>();
        var missing = new List<string[]>();
        var audioFiles = new List<string>();
        foreach (var source in sources)
        {
            var segments = Path.GetFullPath(source.SegmentsCsv);
            if (!File.Exists(segments)) throw new BatException(segments, "segment list not found");
            var root = Path.GetFullPath(audioRoot ?? Path.GetDirectoryName(segments)!);
            StrictUtf8.GuardCsv(segments, () =>
            {
                using var csv = CsvReader.FromFile(segments, SegmentOptions);
                while (csv.Read())
                {
                    int line = (int)csv.LineNumber;
                    if (csv.FieldCount < 4) throw new BatException(segments, $"line {line}: expected YTID, start, end, \"labels\" (got {csv.FieldCount} fields)");
                    string ytid = csv.GetString(0) ?? "", start = csv.GetString(1) ?? "", end = csv.GetString(2) ?? "";
                    // The fields are spliced into a path: one that could climb out of its folder is not an AudioSet id.
                    foreach (var field in new[] { ytid, start, end })
                        if (field.Length == 0 || field.IndexOfAny(['/', '\\', '\0']) >= 0 || field.Contains(".."))
                            throw new BatException(segments, $"line {line}: '{field}' is not a YouTube id or time");
                    var labels = new List<string>();
                    foreach (var mid in (csv.GetString(3) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                        labels.Add(nameOfMid.TryGetValue(mid, out var name) ? name
                            : throw new BatException(segments, $"line {line}: unknown label '{mid}' (not in {Path.GetFileName(labelsCsv)})"));
                    var audio = Path.GetFullPath(ExpandPattern(audioPattern, root, ytid, start, end), root);
                    if (!File.Exists(audio)) { missing.Add([ytid, start, end, source.Split, audio]); continue; }
                    audioFiles.Add(audio);
                    entries.Add(new ManifestEntry(BuilderUtil.RelativeTo(outDir, audio), labels, source.Split));
                }
            });
        }
        // The manifest and the missing-files report are renamed into place together (or neither is).
        using var batch = new AtomicBatch();
        Manifest.Save(batch, outCsv, new TaskInfo(taskName, TaskKind.Multilabel, classes, 16000, 10, "mAP", BuilderUtil.AudioRoots(outDir, audioFiles)), entries);
        string? report = null;
        if (missing.Count > 0)
        {
            report = Path.ChangeExtension(outCsv, null) + "-missing.csv";
            CsvFiles.Write(batch, report, ["ytid", "start_seconds", "end_seconds", "split", "expected_path"], missing);
        }
        batch.Commit();
        return new Result(outCsv, entries.Count, missing.Count, report);
    }
}
