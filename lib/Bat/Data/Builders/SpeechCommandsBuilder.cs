using Bat.Audio;

namespace Bat.Data.Builders;

/// <summary>
/// Speech Commands v2, 12-class task: the 10 command words, _silence_ (1 s chunks cut from the
/// _background_noise_ recordings, written as WAV files under &lt;out&gt;/_silence_/) and _unknown_ (all other
/// words). validation_list.txt / testing_list.txt decide the splits of word clips; silence chunk k of each
/// noise file goes to test when k % 10 == 0, valid when k % 10 == 1, else train (deterministic).
/// </summary>
public static class SpeechCommandsBuilder
{
    public static readonly string[] Words = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"];
    public const string Silence = "_silence_", Unknown = "_unknown_", NoiseFolder = "_background_noise_";
    public static IReadOnlyList<string> Classes => [.. Words, Silence, Unknown];

    public sealed record Result(string Manifest, int Clips, int SilenceChunks, IReadOnlyDictionary<string, int> PerSplit);

    public static Result Build(string root, string? outDir = null)
    {
        root = Path.GetFullPath(root);
        outDir = Path.GetFullPath(outDir ?? root);
        if (!Directory.Exists(root)) throw new BatException(root, "folder not found");
        var valid = ReadList(Path.Combine(root, "validation_list.txt"));
        var test = ReadList(Path.Combine(root, "testing_list.txt"));

        var entries = new List<ManifestEntry>();
        foreach (var wordDir in Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal))
        {
            var word = Path.GetFileName(wordDir);
            if (word.StartsWith('_') || word.StartsWith('.')) continue;   // _background_noise_, derived folders
            var label = Words.Contains(word) ? word : Unknown;
            foreach (var file in Directory.GetFiles(wordDir, "*.wav").OrderBy(f => f, StringComparer.Ordinal))
            {
                var key = $"{word}/{Path.GetFileName(file)}";
                var split = test.Contains(key) ? "test" : valid.Contains(key) ? "valid" : "train";
                entries.Add(new ManifestEntry(BuilderUtil.RelativeTo(outDir, file), [label], split));
            }
        }
        if (entries.Count == 0) throw new BatException(root, "no <word>/*.wav files found (is this the Speech Commands folder?)");

        // Silence chunks, manifest and sidecar are staged and renamed together: a failure leaves none of them.
        using var batch = new AtomicBatch();
        int chunks = 0;
        var noiseDir = Path.Combine(root, NoiseFolder);
        if (Directory.Exists(noiseDir))
        {
            var silenceDir = Path.Combine(outDir, Silence);
            foreach (var noise in Directory.GetFiles(noiseDir, "*.wav").OrderBy(f => f, StringComparer.Ordinal))
            {
                var clip = AudioReader.Read(noise);
                var (samples, rate) = (clip.Samples, clip.SampleRate);
                var name = Path.GetFileNameWithoutExtension(noise);
                for (int k = 0; (k + 1) * rate <= samples.Length; k++)
                {
                    var chunk = Path.Combine(silenceDir, $"{name}_{k:D4}.wav");
                    batch.WriteAllBytes(chunk, WavWriter.Encode(samples.AsSpan(k * rate, rate), rate));
                    var split = (k % 10) switch { 0 => "test", 1 => "valid", _ => "train" };
                    entries.Add(new ManifestEntry(BuilderUtil.RelativeTo(outDir, chunk), [Silence], split));
                    chunks++;
                }
            }
        }
        var path = Path.Combine(outDir, "speechcommands12.csv");
        string[] placed = chunks > 0 ? [Path.Combine(root, "x"), Path.Combine(outDir, Silence, "x")] : [Path.Combine(root, "x")];
        var roots = BuilderUtil.AudioRoots(outDir, placed);
        Manifest.Save(batch, path, new TaskInfo("speechcommands12", TaskKind.Multiclass, Classes, 16000, 1, "accuracy", roots), entries);
        batch.Commit();
        var perSplit = entries.GroupBy(e => e.Split).ToDictionary(g => g.Key, g => g.Count());
        return new Result(path, entries.Count, chunks, perSplit);
    }

    static HashSet<string> ReadList(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "split list not found");
        StrictUtf8.Check(path);
        return File.ReadLines(path).Select(l => l.Trim().Replace('\\', '/')).Where(l => l.Length > 0).ToHashSet(StringComparer.Ordinal);
    }
}
