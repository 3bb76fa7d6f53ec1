using System.Diagnostics;

namespace Bat.Audio;

/// <summary>
/// Opens any audio file as a mono clip. WAV is read natively (<see cref="WavReader"/>); other formats (flac, mp3,
/// ogg, ...) are decoded to a temporary float WAV by ffmpeg, or sox when ffmpeg is absent.
/// </summary>
public static class AudioReader
{
    public const int DefaultRate = 16000;

    /// <summary>The clip at its own sample rate, channels averaged to mono.</summary>
    public static AudioClip Read(string path) => Read(path, Environment.GetEnvironmentVariable("PATH"));

    /// <summary>The clip resampled to <paramref name="sampleRate"/>; non-finite samples are an error.</summary>
    public static AudioClip Load(string path, int sampleRate = DefaultRate)
    {
        var clip = Read(path);
        CheckFinite(clip);
        if (clip.SampleRate == sampleRate) return clip;
        if (Resampler.KernelFloats(clip.SampleRate, sampleRate) > Resampler.MaxKernelFloats)
            throw new BatException(path, $"sample rate {clip.SampleRate} Hz cannot be resampled to {sampleRate} Hz here (its filter table would be " +
                                         $"{Resampler.KernelFloats(clip.SampleRate, sampleRate) >> 18} MB); convert it first, e.g. `sox IN -r {sampleRate} OUT.wav`");
        return new AudioClip(Resampler.Resample(clip.Samples, clip.SampleRate, sampleRate), sampleRate, clip.Source);
    }

    public static void CheckFinite(AudioClip clip)
    {
        var x = clip.Samples;
        for (int i = 0; i < x.Length; i++)
            if (!float.IsFinite(x[i]))
                throw new BatException(clip.Source, $"sample {i} (at {(double)i / clip.SampleRate:0.###} s) is {x[i]}: NaN or Inf samples are not audio");
    }

    /// <summary>As <see cref="Read(string)"/> with the external decoders looked up in <paramref name="searchPath"/>.</summary>
    internal static AudioClip Read(string path, string? searchPath)
    {
        if (Directory.Exists(path)) throw new BatException(path, "is a directory, not an audio file");
        if (!File.Exists(path)) throw new BatException(path, "file not found");
        var head = new byte[12];
        int got;
        try
        {
            using var f = File.OpenRead(path);
            got = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BatException(path, $"cannot read: {e.Message}", e);
        }
        var ext = Path.GetExtension(path).ToLowerInvariant();
        // A .wav name (or RIFF/WAVE bytes) goes to the native reader, which explains what is wrong with a bad file.
        if (WavReader.LooksLikeWav(head.AsSpan(0, got)) || ext is ".wav" or ".wave") return WavReader.Read(path);
        if (got == 0) throw new BatException(path, "zero samples: the file is empty");
        return Decode(path, searchPath);
    }

    static AudioClip Decode(string path, string? searchPath)
    {
        var ffmpeg = FindTool("ffmpeg", searchPath);
        var sox = ffmpeg is null ? FindTool("sox", searchPath) : null;
        if (ffmpeg is null && sox is null)
            throw new BatException(path, $"decoding '{Path.GetExtension(path)}' files needs ffmpeg (or sox), and neither is on PATH: apt-get install ffmpeg");
        var tmp = Path.Combine(Path.GetTempPath(), $"bat-decode-{Environment.ProcessId}-{Guid.NewGuid():N}.wav");
        try
        {
            // Decode every channel to float so mono is made the same way (averaging) as for WAV input. The decoders
            // stop at the longest clip the sample limit allows at 8 kHz (plus a second), so a huge compressed file
            // cannot fill the disk; a result that reaches that cut was longer than the limit and is refused below.
            string limit = DecodeSecondsLimit.ToString("0", System.Globalization.CultureInfo.InvariantCulture);
            string[] args = ffmpeg is not null
                ? ["-nostdin", "-v", "error", "-y", "-i", Path.GetFullPath(path), "-map", "0:a:0", "-vn", "-t", limit, "-c:a", "pcm_f32le", "-f", "wav", tmp]
                : ["-q", Path.GetFullPath(path), "-e", "floating-point", "-b", "32", tmp, "trim", "0", limit];
            var tool = ffmpeg ?? sox!;
            var (code, stderr) = Run(tool, args);
            if (code != 0 || !File.Exists(tmp))
            {
                var why = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit code {code}";
                var full = Path.GetFullPath(path) + ": ";
                if (why.StartsWith(full, StringComparison.Ordinal)) why = why[full.Length..];   // the tool names the file too
                throw new BatException(path, $"{Path.GetFileName(tool)} cannot decode it: {why}");
            }
            var clip = WavReader.Read(tmp);
            if (clip.Seconds >= DecodeSecondsLimit - 0.5)
                throw new BatException(path, $"longer than {DecodeSecondsLimit:0} s, over the clip length limit; cut the file, or raise {AudioLimits.MaxSecondsVariable}");
            return clip with { Source = path };
        }
        catch (BatException e) when (e.Source_ == tmp)
        {
            // Report the user's file, not our temporary one.
            throw new BatException(path, e.Message[(tmp.Length + 2)..], e);
        }
        finally
        {
            try { File.Delete(tmp); } catch (IOException) { }
        }
    }

    /// <summary>Seconds an external decoder is allowed to produce: the sample limit at 8 kHz, plus one second.</summary>
    static double DecodeSecondsLimit => Math.Ceiling(AudioLimits.MaxSamples / 8000.0) + 1;

    static (int Code, string Stderr) Run(string tool, string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info) ?? throw new BatException(tool, "could not start");
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err.Result);
    }

    internal static string? FindTool(string name, string? searchPath)
    {
        foreach (var dir in (searchPath ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
