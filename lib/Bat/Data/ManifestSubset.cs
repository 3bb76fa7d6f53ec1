namespace Bat.Data;

/// <summary>
/// A manifest made from another by keeping the first N rows (in file order) of some of its splits and every row of the
/// others: fewer labelled training clips for a label-budget ablation, or a small train split beside large validation
/// and test splits, so that probes are trained as on the embedded benchmark and scored on enough clips to tell two
/// encoders apart (docs/method.md section 6). The subset is written beside its source, so its paths, audio roots and
/// events file stay valid; its sidecar is the source's with the task named after the new file.
/// </summary>
public static class ManifestSubset
{
    /// <param name="sourceCsv">the manifest to take rows from (left unchanged)</param>
    /// <param name="outCsv">the new manifest, in the same folder as the source</param>
    /// <param name="take">split -> how many of its rows to keep; splits not named keep all their rows</param>
    public static Manifest Write(string sourceCsv, string outCsv, IReadOnlyDictionary<string, int> take)
    {
        var source = Manifest.Load(sourceCsv);
        string sourceFull = Path.GetFullPath(sourceCsv), outFull = Path.GetFullPath(outCsv);
        if (Path.GetDirectoryName(sourceFull) != Path.GetDirectoryName(outFull))
            throw new BatException(outCsv, $"write the subset beside its source ({Path.GetDirectoryName(sourceFull)}), so its audio paths and events stay valid");
        if (sourceFull == outFull || outFull == Path.GetFullPath(Manifest.SidecarPath(sourceCsv)))
            throw new BatException(outCsv, "the subset would overwrite its source manifest");
        if (take.Count == 0) throw new BatException(outCsv, "name at least one split to take rows from (e.g. train=280)");
        foreach (var (split, n) in take)
        {
            int available = source.Split(split).Count;
            if (n < 1 || n > available)
                throw new BatException(sourceCsv, $"split '{split}' has {available} rows; cannot keep {n} (must be 1 to {available})");
        }
        var kept = new Dictionary<string, int>();
        var rows = source.Entries.Where(e =>
        {
            if (!take.TryGetValue(e.Split, out int n)) return true;
            kept[e.Split] = kept.GetValueOrDefault(e.Split) + 1;
            return kept[e.Split] <= n;
        }).Select(e => new ManifestEntry(e.Path, e.Labels, e.Split, e.Fold)).ToList();
        Manifest.Save(outCsv, source.Task with { Name = Path.GetFileNameWithoutExtension(outCsv) }, rows);
        return Manifest.Load(outCsv);
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
