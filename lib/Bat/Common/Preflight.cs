namespace Bat;

/// <summary>
/// Checks made before long work starts, so a run fails in its first second rather than after an hour:
/// the output folder can be created and written, and its file system has room for what the run will write.
/// </summary>
public static class Preflight
{
    /// <summary>Throws a <see cref="BatException"/> naming the folder when it is not writable or too full.</summary>
    public static void EnsureWritable(string folder, long requiredBytes = 0)
    {
        var full = Path.GetFullPath(folder);
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BatException(full, $"cannot create the output folder: {e.Message}", e);
        }

        var probe = Path.Combine(full, $".bat-write-probe-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, new byte[4096]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BatException(full, $"the output folder is not writable: {e.Message}", e);
        }
        finally
        {
            try { File.Delete(probe); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        if (requiredBytes > 0)
        {
            long free = FreeBytes(full);
            if (free >= 0 && free < requiredBytes)
                throw new BatException(full,
                    $"not enough free disk space: {free / (1 << 20)} MiB free, this run needs about {requiredBytes / (1 << 20)} MiB");
        }
    }

    /// <summary>
    /// Throws a <see cref="BatException"/> naming <paramref name="file"/> when it cannot be written: its folder is
    /// not writable, it is a folder, or it exists and cannot be opened for writing. Nothing is created or changed
    /// except the folder.
    /// </summary>
    public static void EnsureWritableFile(string file)
    {
        var full = Path.GetFullPath(file);
        if (Directory.Exists(full)) throw new BatException(full, "is a folder, expected an output file");
        EnsureWritable(Path.GetDirectoryName(full)!);
        if (!File.Exists(full)) return;
        try
        {
            using var _ = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BatException(full, $"the output file is not writable: {e.Message}", e);
        }
    }

    /// <summary>Free bytes on the file system holding <paramref name="path"/>, or -1 when it cannot be told.</summary>
    public static long FreeBytes(string path)
    {
        var full = Path.GetFullPath(path);
        var drive = DriveInfo.GetDrives()
            .Where(d => d.IsReady && full.StartsWith(d.RootDirectory.FullName, StringComparison.Ordinal))
            .OrderByDescending(d => d.RootDirectory.FullName.Length)
            .FirstOrDefault();
        return drive?.AvailableFreeSpace ?? -1;
    }
}
