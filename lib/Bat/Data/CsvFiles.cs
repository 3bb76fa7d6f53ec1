using CsvHelper;

namespace Bat.Data;

/// <summary>CsvHelper settings and an atomic writer shared by the manifest code and the builders.</summary>
internal static class CsvFiles
{
    /// <summary>Comma separated with a header; line numbers tracked so errors can name the line.</summary>
    public static readonly CsvReaderOptions ReaderOptions = CsvReaderOptions.Default with
    {
        Separator = ',',
        TrackLineNumbers = true,
        TrimWhitespace = true,
    };

    /// <summary>Writes a header and rows of string fields atomically (temp file + rename), LF line ends.</summary>
    public static void Write(string path, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        using var batch = new AtomicBatch();
        Write(batch, path, header, rows);
        batch.Commit();
    }

    /// <summary>Stages the CSV in <paramref name="batch"/> (written when the batch commits).</summary>
    public static void Write(AtomicBatch batch, string path, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var options = CsvWriterOptions.Default with { NewLine = "\n" };
        batch.Write(path, stream =>
        {
            using var csv = CsvWriter.Create(stream, options, true);
            foreach (var h in header) csv.WriteField(h);
            csv.EndRecord();
            foreach (var row in rows)
            {
                foreach (var field in row) csv.WriteField(field);
                csv.EndRecord();
            }
            csv.Flush();
        });
    }
}
