namespace Bat.Data;

/// <summary>
/// A manifest made from another by keeping the first N rows (in file order) of some of its splits and every row of the
/// others: fewer labelled training clips for a label-budget ablation, or a small train split beside large validation
/// and test splits, so that probes are trained as on the embedded benchmark and scored on enough clips to tell two
/// encoders apart (docs/method.md section 6). The subset is written beside its source, so its paths, audio roots and
/// events file stay valid; its sidecar is the source's with the task named after the new file.
/// With <c>perClass</c> (single-label tasks) the count is per class, drawn at random with a seed: a label budget of
/// N clips of every class, as label-efficiency studies of self-supervised encoders use (the first rows in file order
/// would be one class, or one speaker, of a manifest sorted by folder).
/// </summary>
public static class ManifestSubset
{
    /// <param name="sourceCsv">the manifest to take rows from (left unchanged)</param>
    /// <param name="outCsv">the new manifest, in the same folder as the source</param>
    /// <param name="take">split -> how many of its rows to keep (of each class with <paramref name="perClass"/>); splits not named keep all their rows</param>
    /// <param name="perClass">keep that many rows of each class, drawn with <paramref name="seed"/> (single-label tasks only)</param>
    /// <param name="seed">seed of the per-class draw</param>
    public static Manifest Write(string sourceCsv, string outCsv, IReadOnlyDictionary<string, int> take, bool perClass = false, int seed = 0)
    {
        var source = Manifest.Load(sourceCsv);
        string sourceFull = Path.GetFullPath(sourceCsv), outFull = Path.GetFullPath(outCsv);
        if (Path.GetDirectoryName(sourceFull) != Path.GetDirectoryName(outFull))
            throw new BatException(outCsv, $"write the subset beside its source ({Path.GetDirectoryName(sourceFull)}), so its audio paths and events stay valid");
        if (sourceFull == outFull || outFull == Path.GetFullPath(Manifest.SidecarPath(sourceCsv)))
            throw new BatException(outCsv, "the subset would overwrite its source manifest");
        if (take.Count == 0) throw new BatException(outCsv, "name at least one split to take rows from (e.g. train=280)");
        var keep = perClass ? PerClass(source, sourceCsv, take, seed) : FirstRows(source, sourceCsv, take);
        var rows = source.Entries.Where(keep.Contains).Select(e => new ManifestEntry(e.Path, e.Labels, e.Split, e.Fold)).ToList();
        Manifest.Save(outCsv, source.Task with { Name = Path.GetFileNameWithoutExtension(outCsv) }, rows);
        return Manifest.Load(outCsv);
    }

    /// <summary>The rows kept: the first n of each named split in file order, every row of the others.</summary>
    static HashSet<ManifestEntry> FirstRows(Manifest source, string sourceCsv, IReadOnlyDictionary<string, int> take)
    {
        foreach (var (split, n) in take)
        {
            int available = source.Split(split).Count;
            if (n < 1 || n > available)
                throw new BatException(sourceCsv, $"split '{split}' has {available} rows; cannot keep {n} (must be 1 to {available})");
        }
        var kept = new Dictionary<string, int>();
        return source.Entries.Where(e =>
        {
            if (!take.TryGetValue(e.Split, out int n)) return true;
            kept[e.Split] = kept.GetValueOrDefault(e.Split) + 1;
            return kept[e.Split] <= n;
        }).ToHashSet<ManifestEntry>(ReferenceEqualityComparer.Instance);
    }

    /// <summary>
    /// The rows kept: n of each class in each named split, drawn without replacement with a seeded shuffle (the same
    /// seed, source and n give the same rows), every row of the others. Refused for a multi-label task (a clip counts
    /// for several classes) and when a class has fewer than n rows in the split.
    /// </summary>
    static HashSet<ManifestEntry> PerClass(Manifest source, string sourceCsv, IReadOnlyDictionary<string, int> take, int seed)
    {
        if (source.Task.Kind != TaskKind.Multiclass)
            throw new BatException(sourceCsv, $"a per-class budget needs a single-label task; {source.Task.Name} is {source.Task.Kind.ToString().ToLowerInvariant()}");
        var kept = new HashSet<ManifestEntry>(ReferenceEqualityComparer.Instance);
        foreach (var (split, n) in take)
        {
            var rows = source.Split(split);
            if (rows.Count == 0) throw new BatException(sourceCsv, $"split '{split}' has no rows");
            if (n < 1) throw new BatException(sourceCsv, $"cannot keep {n} rows of each class (must be at least 1)");
            var rng = new Random(seed);
            foreach (var cls in source.Task.Classes)
            {
                var ofClass = rows.Where(e => e.Labels[0] == cls).ToArray();
                if (ofClass.Length < n)
                    throw new BatException(sourceCsv, $"class '{cls}' has {ofClass.Length} rows in split '{split}'; cannot keep {n} of each class");
                rng.Shuffle(ofClass);
                kept.UnionWith(ofClass.Take(n));
            }
        }
        foreach (var e in source.Entries.Where(e => !take.ContainsKey(e.Split))) kept.Add(e);
        return kept;
    }

    /// <summary>Parses "train=280" into (train, 280), naming the bad part when it is not of that form.</summary>
    public static KeyValuePair<string, int> ParseTake(string text)
    {
        var parts = text.Split('=', 2);
        if (parts.Length != 2 || parts[0].Trim().Length == 0 || !int.TryParse(parts[1], out int n))
            throw new BatException("--take", $"'{text}' is not split=count (e.g. train=280)");
        return new(parts[0].Trim(), n);
    }
}
