using System.Globalization;
using CsvHelper;

namespace Bat.Data.Builders;

/// <summary>Small helpers shared by the manifest builders.</summary>
internal static class BuilderUtil
{
    /// <summary>Path of <paramref name="file"/> as written in a manifest stored in <paramref name="manifestDir"/>.</summary>
    public static string RelativeTo(string manifestDir, string file) =>
        Path.GetRelativePath(manifestDir, Path.GetFullPath(file)).Replace('\\', '/');

    /// <summary>Reads a headed CSV, checking the columns exist; calls <paramref name="row"/> with the reader and line.</summary>
    public static void ReadCsv(string path, IReadOnlyList<string> columns, Action<CsvReader, int> row)
    {
        if (!File.Exists(path)) throw new BatException(path, "file not found");
        using var csv = CsvReader.FromFile(path, CsvFiles.ReaderOptions);
        var header = csv.Headers;
        foreach (var c in columns)
            if (!header.Contains(c)) throw new BatException(path, $"missing column '{c}' (header is '{string.Join(",", header)}')");
        while (csv.Read()) row(csv, (int)csv.LineNumber);
    }

    public static int ParseInt(string path, int line, string column, string? text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new BatException(path, $"line {line}: {column} '{text}' is not an integer");
}
