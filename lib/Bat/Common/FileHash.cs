using System.Security.Cryptography;

namespace Bat;

/// <summary>Content hashes that identify a checkpoint or a manifest regardless of where it lies.</summary>
public static class FileHash
{
    /// <summary>SHA-256 over the bytes of the files in order, lower-case hex.</summary>
    public static string Sha256(params string[] paths)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[1 << 20];
        foreach (var p in paths)
        {
            if (!File.Exists(p)) throw new BatException(p, "file not found");
            using var stream = File.OpenRead(p);
            int n;
            while ((n = stream.Read(chunk)) > 0) sha.AppendData(chunk, 0, n);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
