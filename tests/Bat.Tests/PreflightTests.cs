namespace Bat.Tests;

public class PreflightTests
{
    [Fact]
    public void WritableFolderPasses()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bat-preflight-" + Guid.NewGuid().ToString("N"));
        try
        {
            Preflight.EnsureWritable(dir, requiredBytes: 1024);
            Assert.True(Directory.Exists(dir));
            Assert.Empty(Directory.GetFiles(dir)); // the probe file is cleaned up
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void UnwritableFolderIsNamedInTheError()
    {
        // A regular file where a folder is expected cannot be created as a folder, even for root.
        var file = Path.GetTempFileName();
        try
        {
            var target = Path.Combine(file, "out");
            var e = Assert.Throws<BatException>(() => Preflight.EnsureWritable(target));
            Assert.Contains(target, e.Message);
            Assert.Contains("cannot create the output folder", e.Message);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void TooLittleFreeSpaceIsRefusedBeforeWork()
    {
        var dir = Path.GetTempPath();
        long free = Preflight.FreeBytes(dir);
        Assert.True(free > 0);
        var e = Assert.Throws<BatException>(() => Preflight.EnsureWritable(dir, requiredBytes: free + (1L << 40)));
        Assert.Contains("not enough free disk space", e.Message);
    }

    [Fact]
    public void AtomicWriteLeavesNoTempFileAndReplacesWhole()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bat-atomic-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(dir, "a.csv");
            AtomicFile.WriteAllText(path, "first");
            AtomicFile.WriteAllText(path, "second");
            Assert.Equal("second", File.ReadAllText(path));
            Assert.Equal(new[] { path }, Directory.GetFiles(dir));

            // A writer that fails midway leaves the old file intact and no temp file behind.
            Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
            {
                s.Write(new byte[] { 1, 2, 3 });
                throw new InvalidOperationException("boom");
            }));
            Assert.Equal("second", File.ReadAllText(path));
            Assert.Equal(new[] { path }, Directory.GetFiles(dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AnOutputFileThatIsAFolderIsRefusedBeforeAnyWork()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bat-preflight-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "results.csv"));
            var e = Assert.Throws<BatException>(() => Preflight.EnsureWritableFile(Path.Combine(dir, "results.csv")));
            Assert.Contains("results.csv: is a folder", e.Message);
            Preflight.EnsureWritableFile(Path.Combine(dir, "new.csv"));
            Assert.False(File.Exists(Path.Combine(dir, "new.csv")));   // checked, not created
        }
        finally { Directory.Delete(dir, true); }
    }
}
