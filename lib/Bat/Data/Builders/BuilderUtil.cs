using System.Globalization;
using CsvHelper;

namespace Bat.Data.Builders;

/// <summary>Small helpers shared by the manifest builders.</summary>
internal static class BuilderUtil
{
    /// <summary>Path of <paramref name="file"/> as written in a manifest stored in <paramref name="manifestDir"/>.</summary>
    public static string RelativeTo(string manifestDir, string file) =>
        Path.GetRelativePath(manifestDir, Path.GetFullPath(file)).Replace('\\', '/');

    /// <summary>
    /// The sidecar's audio roots for a manifest in <paramref name="manifestDir"/> listing <paramref name="audio"/>:
    /// null when every file lies in the manifest's folder, else "." (if some do) and the folder holding the others.
    /// </summary>
    public static IReadOnlyList<string>? AudioRoots(string manifestDir, IEnumerable<string> audio)
    {
        manifestDir = Path.GetFullPath(manifestDir);
        bool inside = false;
        string? common = null;
        foreach (var file in audio)
        {
            var full = Path.GetFullPath(file);
            if (Manifest.IsInside(full, manifestDir)) { inside = true; continue; }
            var folder = Path.GetDirectoryName(full)!;
            common = common is null ? folder : CommonFolder(common, folder);
        }
        if (common is null) return null;
        return inside ? [".", RelativeTo(manifestDir, common)] : [RelativeTo(manifestDir, common)];
    }

    static string CommonFolder(string a, string b)
    {
        while (a != b && !Manifest.IsInside(b, a)) a = Path.GetDirectoryName(a) ?? Path.GetPathRoot(a)!;
        return a;
    }

    /// <summary>Reads a headed CSV (strict UTF-8), checking the columns exist; calls <paramref name="row"/> with the reader and line.</summary>
    public static void ReadCsv(string path, IReadOnlyList<string> columns, Action<CsvReader, int> row)
    {
        if (!File.Exists(path)) throw new BatException(path, "file not found");
        StrictUtf8.GuardCsv(path, () =>
        {
            using var csv = CsvReader.FromFile(path, CsvFiles.ReaderOptions);
            var header = csv.Headers;
            foreach (var c in columns)
                if (!header.Contains(c)) throw new BatException(path, $"missing column '{c}' (header is '{string.Join(",", header)}')");
            while (csv.Read()) row(csv, (int)csv.LineNumber);
        });
    }

    public static int ParseInt(string path, int line, string column, string? text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new BatException(path, $"line {line}: {column} '{text}' is not an integer");
}
