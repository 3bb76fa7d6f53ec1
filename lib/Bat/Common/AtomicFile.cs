namespace Bat;

/// <summary>
/// Writes files so that a reader never sees a half-written one: write a temporary file in the same folder,
/// flush it to disk, then rename it over the target (rename is atomic within a file system).
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        using var batch = new AtomicBatch();
        batch.Write(path, write);
        batch.Commit();
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>Writes a flushed temporary file beside <paramref name="full"/> and returns its path (deleted again on failure).</summary>
    internal static string Stage(string full, Action<Stream> write)
    {
        var dir = Path.GetDirectoryName(full)!;
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(dir);
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            return tmp;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw new BatException(full, $"cannot write: {e.Message}", e);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    internal static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// Several files written all-or-nothing: each <see cref="Write"/> stages a complete temporary file, and only
/// <see cref="Commit"/> renames them over their targets. Disposing without committing (an error in between)
/// deletes the staged files, so a builder that fails half-way leaves every target as it was.
/// </summary>
public sealed class AtomicBatch : IDisposable
{
    readonly List<(string Temp, string Target)> _staged = [];

    public void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        _staged.Add((AtomicFile.Stage(full, write), full));
    }

    public void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    public void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    public void Commit()
    {
        foreach (var (temp, target) in _staged)
        {
            try { File.Move(temp, target, overwrite: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new BatException(target, $"cannot write: {e.Message}", e);
            }
        }
        _staged.Clear();
    }

    public void Dispose()
    {
        foreach (var (temp, _) in _staged) AtomicFile.TryDelete(temp);
        _staged.Clear();
    }
}
