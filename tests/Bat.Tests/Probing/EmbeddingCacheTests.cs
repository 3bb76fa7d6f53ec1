using System.Text.Json;
using Bat.Probing;
using static TorchSharp.torch;

namespace Bat.Tests.Probing;

public class EmbeddingCacheTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("batemb-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    const int Clips = 5, L = 3, T = 4, D = 6;

    static EmbeddingCacheHeader Header(string sha = "abc") => new(
        EmbeddingCacheHeader.CurrentVersion, "train", sha, "run/checkpoints/step-000010.pt",
        JsonSerializer.SerializeToElement(new { dim = D, depth = L }), JsonSerializer.SerializeToElement(new { kind = "bat", melBins = 64 }),
        "m123", Clips, L, T, D, "float16", Enumerable.Range(0, Clips).Select(i => $"clip{i}.wav").ToList());

    /// <summary>Writes 5 clips in two batches (3 + 2) of L block outputs (B, T, D); returns the (5, L, T, D) truth.</summary>
    Tensor WriteCache(string path)
    {
        manual_seed(3);
        var truth = randn(Clips, L, T, D);
        EmbeddingCache.Write(path, Header(), sink =>
        {
            foreach (var (start, count) in new[] { (0, 3), (3, 2) })
                sink(Enumerable.Range(0, L).Select(l => truth.narrow(0, start, count).select(1, l)).ToList());
        });
        return truth;
    }

    [Fact]
    public void GathersTheRowsThatWereWrittenInHalfPrecision()
    {
        var path = EmbeddingCache.FileFor(dir, "train");
        using var truth = WriteCache(path);
        using var cache = EmbeddingCache.Open(path, Header());
        Assert.Equal((Clips, L, T - 1, D), (cache.Count, cache.Layers, cache.Patches, cache.Dim));
        Assert.Equal(L * T * D * 2, cache.Header.BytesPerClip);

        var rows = new[] { 4, 0, 2 };
        var features = cache.Gather(rows, withPatches: true, CPU);
        using var index = tensor(rows.Select(r => (long)r).ToArray());
        using var expected = truth.index_select(0, index).to(ScalarType.Float16).to(ScalarType.Float32);
        Assert.True(features.Cls.equal(expected.select(2, 0)).all().item<bool>());                  // (B, L, D)
        Assert.True(features.Patches.equal(expected.narrow(2, 1, T - 1)).all().item<bool>());       // (B, L, N, D)

        var clsOnly = cache.Gather(rows, withPatches: false, CPU);
        Assert.True(clsOnly.Cls.equal(expected.select(2, 0)).all().item<bool>());
        Assert.Equal(0, clsOnly.Patches.shape[2]);
    }

    [Fact]
    public void RefusesACacheFromAnotherCheckpointNamingTheFileAndTheDifference()
    {
        var path = EmbeddingCache.FileFor(dir, "train");
        WriteCache(path).Dispose();
        var error = Assert.Throws<BatException>(() => EmbeddingCache.Open(path, Header(sha: "def")));
        Assert.StartsWith(path + ":", error.Message);
        Assert.Contains("checkpoint SHA-256: cached abc, expected def", error.Message);

        var otherFrontend = Header() with { FrontendConfig = JsonSerializer.SerializeToElement(new { kind = "kaldi", melBins = 64 }) };
        Assert.Contains("frontend config", Assert.Throws<BatException>(() => EmbeddingCache.Open(path, otherFrontend)).Message);
    }

    [Fact]
    public void RefusesATruncatedCache()
    {
        var path = EmbeddingCache.FileFor(dir, "train");
        WriteCache(path).Dispose();
        using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength(stream.Length - 10);
        Assert.Contains("truncated", Assert.Throws<BatException>(() => EmbeddingCache.Open(path)).Message);
        File.WriteAllText(path, "not a cache");
        Assert.Contains("bad magic", Assert.Throws<BatException>(() => EmbeddingCache.Open(path)).Message);
    }
}
