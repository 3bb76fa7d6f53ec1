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

    /// <summary>
    /// Runs <paramref name="read"/> over the CSV at <paramref name="path"/> after checking it is strict UTF-8, and
    /// turns whatever the CSV parser throws on a malformed file (an unterminated quote, a cut line) into one
    /// BatException naming the file.
    /// </summary>
    public static void Guard(string path, Action read)
    {
        StrictUtf8.Check(path);
        try { read(); }
        catch (Exception e) when (e is not (BatException or OutOfMemoryException))
        {
            throw new BatException(path, $"malformed CSV: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

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
