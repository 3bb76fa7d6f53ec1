using System.Globalization;
using CsvHelper;

namespace Bat.Reporting;

/// <summary>Free-form CSVs (curves, spectrograms, statistics), written atomically in invariant culture.</summary>
public static class Csv
{
    /// <summary>CsvHelper 34 options: invariant culture, header row.</summary>
    internal static readonly CsvWriterOptions WriterOptions = CsvWriterOptions.Default with { FormatProvider = CultureInfo.InvariantCulture };
    internal static readonly CsvReaderOptions ReaderOptions = CsvReaderOptions.Default with
    {
        FormatProvider = CultureInfo.InvariantCulture, HasHeader = true, TrackLineNumbers = true,
    };

    /// <summary>One row per item, one column per public readable property (header = property names, in
    /// declaration order); values in invariant culture, nullables empty when null.</summary>
    public static void Write<T>(string path, IEnumerable<T> rows)
    {
        var properties = Columns(typeof(T));
        AtomicFile.Write(path, stream =>
        {
            using var text = new StreamWriter(stream, leaveOpen: true);
            using var csv = CsvWriter.Create(text, WriterOptions, leaveOpen: true);
            foreach (var p in properties) csv.WriteField(p.Name);
            csv.EndRecord();
            foreach (var row in rows)
            {
                foreach (var p in properties) csv.WriteField(Format(p.GetValue(row)));
                csv.EndRecord();
            }
        });
    }

    /// <summary>Reads what <see cref="Write{T}"/> wrote: through the constructor whose parameters are named like
    /// the columns (records), else a parameterless constructor and settable properties.</summary>
    public static IReadOnlyList<T> Read<T>(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "CSV file not found");
        using var text = new StreamReader(path);
        using var csv = CsvReader.Create(text, ReaderOptions with { HasHeader = false }, leaveOpen: false);
        if (!csv.Read()) throw new BatException(path, "empty CSV (no header)");
        var header = Enumerable.Range(0, csv.FieldCount).Select(csv.GetString).ToArray();
        var properties = Columns(typeof(T));
        var missing = properties.Select(p => p.Name).Except(header).ToList();
        if (missing.Count > 0) throw new BatException(path, $"missing columns for {typeof(T).Name}: {string.Join(", ", missing)}");
        var ctor = typeof(T).GetConstructors().FirstOrDefault(c =>
            c.GetParameters().Length == properties.Count && c.GetParameters().All(a => properties.Any(p => p.Name == a.Name)));
        var rows = new List<T>();
        while (csv.Read())
        {
            long line = csv.LineNumber;
            var values = new Dictionary<string, object?>();
            foreach (var p in properties)
            {
                var field = csv.GetString(Array.IndexOf(header, p.Name)) ?? "";
                try { values[p.Name] = Parse(field, p.PropertyType); }
                catch (FormatException) { throw new BatException(path, $"line {line}: {p.Name} '{field}' is not a {p.PropertyType.Name}"); }
            }
            if (ctor is not null) rows.Add((T)ctor.Invoke(ctor.GetParameters().Select(a => values[a.Name!]).ToArray()));
            else
            {
                var item = Activator.CreateInstance<T>();
                foreach (var p in properties) p.SetValue(item, values[p.Name]);
                rows.Add(item);
            }
        }
        return rows;
    }

    static List<System.Reflection.PropertyInfo> Columns(Type type) =>
        type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
            .OrderBy(p => p.MetadataToken).ToList();

    static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    static object? Parse(string field, Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null) return field.Length == 0 ? null : Parse(field, underlying);
        if (type == typeof(string)) return field;
        if (type.IsEnum) return Enum.Parse(type, field, ignoreCase: true);
        return Convert.ChangeType(field, type, CultureInfo.InvariantCulture);
    }

    /// <summary>A matrix with header m0..m(K-1): one CSV row per matrix row (for a spectrogram: one per frame).</summary>
    public static void WriteMatrix(string path, float[,] matrix) =>
        WriteMatrix(path, matrix.GetLength(0), matrix.GetLength(1), (r, c) => matrix[r, c].ToString("R", CultureInfo.InvariantCulture));

    public static void WriteMatrix(string path, double[,] matrix) =>
        WriteMatrix(path, matrix.GetLength(0), matrix.GetLength(1), (r, c) => matrix[r, c].ToString("R", CultureInfo.InvariantCulture));

    static void WriteMatrix(string path, int rows, int cols, Func<int, int, string> cell) =>
        AtomicFile.Write(path, stream =>
        {
            using var text = new StreamWriter(stream, leaveOpen: true);
            using var csv = CsvWriter.Create(text, WriterOptions, leaveOpen: true);
            for (int c = 0; c < cols; c++) csv.WriteField($"m{c}");
            csv.EndRecord();
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++) csv.WriteField(cell(r, c));
                csv.EndRecord();
            }
        });

    /// <summary>Reads what <see cref="WriteMatrix(string, float[,])"/> wrote.</summary>
    public static float[,] ReadMatrix(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "CSV file not found");
        StrictUtf8.Check(path);
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        if (lines.Length == 0) throw new BatException(path, "empty matrix CSV");
        int cols = lines[0].Split(',').Length;
        var matrix = new float[lines.Length - 1, cols];
        for (int r = 1; r < lines.Length; r++)
        {
            var fields = lines[r].Split(',');
            if (fields.Length != cols) throw new BatException(path, $"line {r + 1}: {fields.Length} fields, expected {cols}");
            for (int c = 0; c < cols; c++)
                matrix[r - 1, c] = float.TryParse(fields[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                    ? v : throw new BatException(path, $"line {r + 1}: '{fields[c]}' is not a number");
        }
        return matrix;
    }
}
