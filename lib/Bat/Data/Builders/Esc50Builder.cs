namespace Bat.Data.Builders;

/// <summary>
/// ESC-50 (meta/esc50.csv + audio/{fold}-{clip}-{take}-{target}.wav): 50 classes in target order, 5 folds.
/// Writes esc50.csv and esc10.csv (the ESC-10 subset as its own 10-class task). Every row keeps its fold for
/// cross-validation; the split column is a default hold-out: folds 1-3 train, 4 valid, 5 test.
/// </summary>
public static class Esc50Builder
{
    public sealed record Result(string Esc50, string Esc10, int Clips);

    public static string SplitOfFold(int fold) => fold switch { 4 => "valid", 5 => "test", _ => "train" };

    public static Result Build(string root, string? outDir = null)
    {
        root = Path.GetFullPath(root);
        outDir = Path.GetFullPath(outDir ?? root);
        var meta = Path.Combine(root, "meta", "esc50.csv");
        var rows = new List<(string File, int Fold, int Target, string Category, bool Esc10, int Line)>();
        BuilderUtil.ReadCsv(meta, ["filename", "fold", "target", "category", "esc10"], (csv, line) =>
        {
            var file = csv.GetString("filename") ?? "";
            int fold = BuilderUtil.ParseInt(meta, line, "fold", csv.GetString("fold"));
            int target = BuilderUtil.ParseInt(meta, line, "target", csv.GetString("target"));
            if (fold is < 1 or > 5) throw new BatException(meta, $"line {line}: fold {fold} is not in 1-5");
            var esc10 = (csv.GetString("esc10") ?? "").Trim().ToLowerInvariant() is "true" or "1";
            rows.Add((file, fold, target, csv.GetString("category") ?? "", esc10, line));
        });
        if (rows.Count == 0) throw new BatException(meta, "no rows");

        // Class list in target order; one category per target.
        var byTarget = new SortedDictionary<int, string>();
        foreach (var r in rows)
        {
            if (byTarget.TryGetValue(r.Target, out var known) && known != r.Category)
                throw new BatException(meta, $"line {r.Line}: target {r.Target} is '{r.Category}' here but '{known}' earlier");
            byTarget[r.Target] = r.Category;
        }
        var classes = byTarget.Values.ToList();
        var esc10Classes = byTarget.Where(kv => rows.Any(r => r.Target == kv.Key && r.Esc10)).Select(kv => kv.Value).ToList();

        var entries = new List<(ManifestEntry Entry, bool Esc10)>();
        foreach (var r in rows)
        {
            var audio = Path.Combine(root, "audio", r.File);
            if (!File.Exists(audio)) throw new BatException(meta, $"line {r.Line}: audio file not found: {audio}");
            entries.Add((new ManifestEntry(BuilderUtil.RelativeTo(outDir, audio), [r.Category], SplitOfFold(r.Fold), r.Fold), r.Esc10));
        }
        if (esc10Classes.Count == 0)
            throw new BatException(meta, "no row has esc10 = True, so esc10.csv cannot be made (is this ESC-50's meta/esc50.csv?)");
        var esc50Path = Path.Combine(outDir, "esc50.csv");
        var esc10Path = Path.Combine(outDir, "esc10.csv");
        var roots = BuilderUtil.AudioRoots(outDir, [Path.Combine(root, "audio", "x.wav")]);
        // Both manifests (and their sidecars) are staged first and renamed together: a failure leaves none of them.
        using var batch = new AtomicBatch();
        Manifest.Save(batch, esc50Path, new TaskInfo("esc50", TaskKind.Multiclass, classes, 44100, 5, "accuracy", roots), entries.Select(e => e.Entry));
        Manifest.Save(batch, esc10Path, new TaskInfo("esc10", TaskKind.Multiclass, esc10Classes, 44100, 5, "accuracy", roots),
            entries.Where(e => e.Esc10).Select(e => e.Entry));
        batch.Commit();
        return new Result(esc50Path, esc10Path, rows.Count);
    }
}
