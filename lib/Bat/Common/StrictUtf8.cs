using System.Text;

namespace Bat;

/// <summary>
/// Strict UTF-8 for the text files the suite reads (manifests, class lists, sidecars, configs): .NET's readers
/// silently turn invalid bytes into U+FFFD, which would then be written into class lists and results. Here an
/// invalid byte is an error naming the file and the line it is on.
/// </summary>
public static class StrictUtf8
{
    static readonly UTF8Encoding Encoding = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Streams the file through a strict decoder (memory: one 1 MB buffer); throws on the first invalid byte.</summary>
    public static void Check(string path)
    {
        using var stream = Open(path);
        var decoder = Encoding.GetDecoder();
        var bytes = new byte[1 << 20];
        var chars = new char[Encoding.GetMaxCharCount(bytes.Length)];
        long line = 1;
        int n;
        while ((n = stream.Read(bytes)) > 0)
        {
            Decode(decoder, bytes.AsSpan(0, n), chars, path, line, flush: false);
            line += bytes.AsSpan(0, n).Count((byte)'\n');
        }
        Decode(decoder, [], chars, path, line, flush: true);
    }

    /// <summary>The whole file as text, strictly decoded; files over <paramref name="maxBytes"/> are refused before reading.</summary>
    public static string ReadAllText(string path, long maxBytes = 16 << 20)
    {
        using var stream = Open(path);
        if (stream.Length > maxBytes)
            throw new BatException(path, $"{stream.Length} bytes is far larger than a file of this kind can be (limit {maxBytes >> 20} MB): not the expected file?");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        var chars = new char[Encoding.GetMaxCharCount(bytes.Length)];
        int count = Decode(Encoding.GetDecoder(), bytes, chars, path, 1, flush: true);
        var text = new string(chars, 0, count);
        return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;   // a byte order mark is not content
    }

    /// <summary>
    /// Runs <paramref name="read"/> (a CSV parse of <paramref name="path"/>) after checking the file is strict
    /// UTF-8, and turns whatever the CSV parser throws on a malformed file (an unterminated quote, a cut line)
    /// into one BatException naming the file.
    /// </summary>
    public static void GuardCsv(string path, Action read)
    {
        Check(path);
        try { read(); }
        catch (Exception e) when (e is not (BatException or OutOfMemoryException))
        {
            throw new BatException(path, $"malformed CSV: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    static int Decode(Decoder decoder, ReadOnlySpan<byte> bytes, char[] chars, string path, long firstLine, bool flush)
    {
        try { return decoder.GetChars(bytes, chars, flush); }
        catch (DecoderFallbackException e)
        {
            int at = Math.Clamp(e.Index, 0, bytes.Length);
            long line = firstLine + bytes[..at].Count((byte)'\n');
            string what = e.BytesUnknown is { Length: > 0 } b ? $"byte 0x{b[0]:X2}" : "an incomplete character at the end";
            throw new BatException(path, $"line {line}: invalid UTF-8 ({what}); save the file as UTF-8");
        }
    }

    static FileStream Open(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "file not found");
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BatException(path, $"cannot read: {e.Message}", e);
        }
    }
}
