using System.Globalization;
using CsvHelper;
using Microsoft.Data.Analysis;

namespace Bat.Reporting;

/// <summary>
/// One result of the suite, in the shared schema every notebook writes:
/// <c>experiment,dataset,model,probe,k,layer,metric,value,seed,preset,commit</c>.
/// K (prototypes/bins of a probe) and Layer are null where they do not apply (empty in the CSV).
/// </summary>
public sealed record ResultRow(
    string Experiment, string Dataset, string Model, string Probe, int? K, int? Layer,
    string Metric, double Value, int Seed, string Preset, string Commit);

/// <summary>Writes and reads result CSVs (atomically: a reader never sees half a file).</summary>
public static class ResultsTable
{
    public static readonly IReadOnlyList<string> Columns =
        ["experiment", "dataset", "model", "probe", "k", "layer", "metric", "value", "seed", "preset", "commit"];

    /// <summary>Writes the rows as the whole file.</summary>
    public static void Write(string path, IEnumerable<ResultRow> rows) =>
        AtomicFile.Write(path, stream =>
        {
            using var text = new StreamWriter(stream, leaveOpen: true);
            using var csv = CsvWriter.Create(text, Csv.WriterOptions, leaveOpen: true);
            foreach (var c in Columns) csv.WriteField(c);
            csv.EndRecord();
            foreach (var r in rows)
            {
                csv.WriteField(r.Experiment);
                csv.WriteField(r.Dataset);
                csv.WriteField(r.Model);
                csv.WriteField(r.Probe);
                csv.WriteField(r.K?.ToString(CultureInfo.InvariantCulture) ?? "");
                csv.WriteField(r.Layer?.ToString(CultureInfo.InvariantCulture) ?? "");
                csv.WriteField(r.Metric);
                csv.WriteField(r.Value.ToString("R", CultureInfo.InvariantCulture));
                csv.WriteField(r.Seed.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(r.Preset);
                csv.WriteField(r.Commit);
                csv.EndRecord();
            }
        });

    /// <summary>Adds rows to the file (creating it), rewriting it atomically: existing rows are never lost.</summary>
    public static void Append(string path, IEnumerable<ResultRow> rows)
    {
        var all = File.Exists(path) ? Read(path).ToList() : [];
        all.AddRange(rows);
        Write(path, all);
    }

    public static IReadOnlyList<ResultRow> Read(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "results file not found");
        var rows = new List<ResultRow>();
        // Strict UTF-8, and whatever the CSV parser throws on a broken file, as one error naming it.
        StrictUtf8.GuardCsv(path, () =>
        {
            using var text = new StreamReader(path);
            using var csv = CsvReader.Create(text, Csv.ReaderOptions with { HasHeader = false }, leaveOpen: false);
            if (!csv.Read())
                throw new BatException(path, "empty file (expected the header " + string.Join(",", Columns) + ")");
            var header = Enumerable.Range(0, csv.FieldCount).Select(csv.GetString).ToArray();
            if (!header.SequenceEqual(Columns))
                throw new BatException(path, $"header is '{string.Join(",", header)}', expected '{string.Join(",", Columns)}'");
            while (csv.Read())
            {
                long line = csv.LineNumber;
                string Field(int i) => csv.GetString(i) ?? "";
                int? OptionalInt(int i) => Field(i) is "" ? null : ParseInt(i);
                int ParseInt(int i) => int.TryParse(Field(i), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
                    ? v : throw new BatException(path, $"line {line}: {Columns[i]} '{Field(i)}' is not an integer");
                if (csv.FieldCount != Columns.Count)
                    throw new BatException(path, $"line {line}: {csv.FieldCount} fields, expected {Columns.Count}");
                if (!double.TryParse(Field(7), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                    throw new BatException(path, $"line {line}: value '{Field(7)}' is not a number");
                rows.Add(new ResultRow(Field(0), Field(1), Field(2), Field(3), OptionalInt(4), OptionalInt(5), Field(6),
                    value, ParseInt(8), Field(9), Field(10)));
            }
        });
        return rows;
    }

    /// <summary>The file as a DataFrame with the schema's column names (k and layer nullable).</summary>
    public static DataFrame ReadDataFrame(string path) => ToDataFrame(Read(path));

    public static DataFrame ToDataFrame(IReadOnlyList<ResultRow> rows) => new(
        new StringDataFrameColumn("experiment", rows.Select(r => r.Experiment)),
        new StringDataFrameColumn("dataset", rows.Select(r => r.Dataset)),
        new StringDataFrameColumn("model", rows.Select(r => r.Model)),
        new StringDataFrameColumn("probe", rows.Select(r => r.Probe)),
        new Int32DataFrameColumn("k", rows.Select(r => r.K)),
        new Int32DataFrameColumn("layer", rows.Select(r => r.Layer)),
        new StringDataFrameColumn("metric", rows.Select(r => r.Metric)),
        new DoubleDataFrameColumn("value", rows.Select(r => r.Value)),
        new Int32DataFrameColumn("seed", rows.Select(r => r.Seed)),
        new StringDataFrameColumn("preset", rows.Select(r => r.Preset)),
        new StringDataFrameColumn("commit", rows.Select(r => r.Commit)));
}
