using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Bat.Audio;
using Bat.Data;
using Bat.Frontends;
using Bat.Model;
using Bat.Pretraining;
using Bat.Tests.Data;
using Xunit.Abstractions;
using static Bat.Tests.Audio.TestWav;

namespace Bat.Tests.Reliability;

/// <summary>
/// The fuzz drill: a seeded generator of malformed inputs (WAV headers and bodies, CSV manifests, JSON sidecars,
/// run configs, checkpoint headers, embedding cache headers), each run through the real CLI (one built bat.dll) in
/// a child process whose address space is capped with `prlimit --as`. Every case must end with exit code 1, one
/// line on stderr that starts with "error:" and names the broken file, no stack trace, no file added or changed in
/// its folder (nothing half-written), and a peak RSS under 1 GB (VmHWM, sampled every 20 ms). The number of cases
/// tried is written to the test output (./test.sh prints it).
/// </summary>
public class FuzzDrillTests(ITestOutputHelper output)
{
    const int Seed = 15;
    // libtorch maps about 3 GB of address space when it loads, so the cap that lets torch start is 4 GB; the RSS
    // check below is the tight one.
    const long AddressSpaceCap = 4L << 30;
    const long RssLimitKb = 1L << 20;

    /// <summary>One malformed input: the folder it lives in, the CLI arguments, and the file the error must name.</summary>
    sealed record Case(string Name, string Folder, string[] Args, string Culprit, string? MustMention = null,
        IReadOnlyDictionary<string, string>? Environment = null);

    [Fact]
    public void Every_malformed_input_is_one_error_line_naming_the_file_with_bounded_memory_and_nothing_written()
    {
        using var dir = new TempDir();
        var random = new Random(Seed);
        var cases = new List<Case>();
        cases.AddRange(WavCases(dir.Path, random));
        cases.AddRange(ManifestCases(dir.Path, random));
        cases.AddRange(SidecarCases(dir.Path, random));
        cases.AddRange(RunCases(dir.Path, random));

        var failures = new ConcurrentBag<string>();
        long peakKb = 0;
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = 2 }, c =>
        {
            var (problem, rssKb) = Run(c);
            Interlocked.Exchange(ref peakKb, Math.Max(Interlocked.Read(ref peakKb), rssKb));
            if (problem is not null) failures.Add($"{c.Name}: {problem}");
        });
        output.WriteLine($"fuzz drill: {cases.Count} cases tried (seed {Seed}), {failures.Count} failed, peak RSS {peakKb / 1024} MB");
        Assert.True(failures.IsEmpty, $"{failures.Count} of {cases.Count} fuzz cases failed:\n" + string.Join("\n", failures.Order()));
    }

    static (string? Problem, long PeakRssKb) Run(Case c)
    {
        var before = Snapshot(c.Folder);
        var psi = new ProcessStartInfo("prlimit") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = c.Folder };
        foreach (var a in new[] { $"--as={AddressSpaceCap}", "--", "dotnet", Path.Combine(AppContext.BaseDirectory, "bat.dll") }.Concat(c.Args))
            psi.ArgumentList.Add(a);
        psi.Environment["BAT_QUIET"] = "1";
        foreach (var (k, v) in c.Environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        long peak = 0;
        var clock = Stopwatch.StartNew();
        while (!process.WaitForExit(20))
        {
            peak = Math.Max(peak, PeakRssKb(process.Id));
            if (peak > RssLimitKb || clock.Elapsed > TimeSpan.FromSeconds(120))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return (peak > RssLimitKb ? $"peak RSS {peak / 1024} MB, over the 1 GB limit" : "still running after 120 s", peak);
            }
        }
        process.WaitForExit();
        string err = stderr.Result.Trim(), @out = stdout.Result;
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string? problem =
            process.ExitCode != 1 ? $"exit code {process.ExitCode}, expected 1; stderr: {Shorten(err)}"
            : lines.Length != 1 ? $"{lines.Length} lines on stderr, expected one: {Shorten(err)}"
            : !lines[0].StartsWith("error: ", StringComparison.Ordinal) ? $"the error line does not start with 'error: ': {lines[0]}"
            : !lines[0].Contains(c.Culprit, StringComparison.Ordinal) ? $"the error does not name {c.Culprit}: {lines[0]}"
            : c.MustMention is { } m && !lines[0].Contains(m, StringComparison.Ordinal) ? $"the error does not mention '{m}': {lines[0]}"
            : (err + @out).Contains("   at ", StringComparison.Ordinal) ? $"a stack trace was printed: {Shorten(err + @out)}"
            : null;
        var after = Snapshot(c.Folder);
        problem ??= after.SequenceEqual(before) ? null
            : $"files changed: {string.Join(", ", after.Except(before).Concat(before.Except(after)).Select(f => f.Path).Distinct())}";
        return (problem, peak);
    }

    static string Shorten(string s) => s.Length <= 400 ? s.ReplaceLineEndings(" | ") : s[..400].ReplaceLineEndings(" | ") + "...";

    static long PeakRssKb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        catch (IOException) { }   // the process just exited
        return 0;
    }

    /// <summary>Every file under a folder with its length and content hash (empty folders do not count).</summary>
    static List<(string Path, long Length, string Hash)> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => (f, new FileInfo(f).Length, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))))).ToList();

    static string NewFolder(string root, string name)
    {
        var folder = Path.Combine(root, name);
        Directory.CreateDirectory(folder);
        return folder;
    }

    static byte[] Pcm16(float[] samples) =>
        samples.SelectMany(v => BitConverter.GetBytes((short)Math.Round(v * 32000))).ToArray();

    // ---- WAV: `bat frontend --input F.wav --csv out/F.csv` ----

    static IEnumerable<Case> WavCases(string root, Random random)
    {
        var tone = Pcm16(TestAudio.Sine(440, 0.5, 16000));
        byte[] Valid(int tag = 1, int channels = 1, int rate = 16000, int bits = 16) => Riff(Fmt(tag, channels, rate, bits), Chunk("data", tone));
        var variants = new List<(string Name, byte[] Bytes, string? Mention, Dictionary<string, string>? Env)>();
        void Add(string name, byte[] bytes, string? mention = null, Dictionary<string, string>? env = null) => variants.Add((name, bytes, mention, env));

        for (int i = 0; i < 3; i++) Add($"truncated-header-{i}", Valid()[..random.Next(0, 44)]);
        Add("not-riff", [.. "RIFX"u8.ToArray(), .. Valid()[4..]]);
        foreach (var rate in new[] { 0L, 1, 999, 384001, uint.MaxValue, 1L << 31, random.NextInt64(400_000, uint.MaxValue) })
        {
            var b = Valid();
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24), (uint)rate);
            Add($"rate-{rate}", b, "sample rate");
        }
        foreach (var channels in new[] { 0, 65, 65535, random.Next(100, 65535) })
        {
            var b = Valid();
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(22), (ushort)channels);
            Add($"channels-{channels}", b, "channels");
        }
        foreach (var bits in new[] { 0, 12, random.Next(65, 65535) }) Add($"bits-{bits}", Riff(Fmt(1, 1, 16000, bits), Chunk("data", tone)));
        for (int i = 0; i < 3; i++)
        {
            var b = Valid();
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(40), (uint)random.NextInt64(tone.Length + 1, uint.MaxValue));   // data size beyond the file
            Add($"data-size-lies-{i}", b, "data chunk");
        }
        {
            var b = Valid();
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), 0x7FFFFFF0);   // fmt chunk claims 2 GB
            Add("fmt-size-lies", b);
        }
        {
            var b = Valid();
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(32), 7);   // block align
            Add("block-align", b, "block align");
        }
        Add("data-before-fmt", Riff(Chunk("data", tone), Fmt(1, 1, 16000, 16)));
        Add("no-data", Riff(Fmt(1, 1, 16000, 16)));
        Add("empty-data", Riff(Fmt(1, 1, 16000, 16), Chunk("data", [])), "zero samples");
        Add("bad-subformat", Riff(Fmt(0, 1, 16000, 16, Guid.NewGuid()), Chunk("data", tone)), "unsupported");
        Add("adpcm", Riff(Fmt(2, 1, 16000, 4), Chunk("data", tone)), "unsupported");
        Add("nan-samples", Riff(Fmt(3, 1, 16000, 32), Chunk("data", Enumerable.Repeat(BitConverter.GetBytes(float.NaN), 8000).SelectMany(x => x).ToArray())), "NaN");
        Add("too-short-for-the-frontend", Riff(Fmt(1, 1, 16000, 16), Chunk("data", tone[..(2 * random.Next(1, 400))])), "shorter than");
        Add("longer-than-the-limit", Valid(), "longer than the limit", new() { [AudioLimits.MaxSecondsVariable] = "0.1" });
        {
            var garbage = new byte[random.Next(1, 4096)];
            random.NextBytes(garbage);
            Add("random-bytes", garbage);
        }

        foreach (var (name, bytes, mention, env) in variants)
        {
            var folder = NewFolder(root, "wav-" + name);
            var wav = Path.Combine(folder, "clip.wav");
            File.WriteAllBytes(wav, bytes);
            yield return new Case("wav " + name, folder, ["frontend", "--kind", "kaldi", "--input", wav, "--csv", Path.Combine(folder, "out", "clip.csv")],
                wav, mention, env);
        }
    }

    // ---- Manifests: `bat data check M.csv` ----

    static readonly TaskInfo FuzzTask = new("fuzz", TaskKind.Multiclass, ["dog", "cat"], 16000, 0.5, "accuracy");
    const string Header = "path,labels,split,fold";

    /// <summary>A folder with four distinct clips in audio/ and the manifest text (rows in file order, header first).</summary>
    static (string Folder, string Csv, List<string> Rows) ManifestFolder(string root, string name, TaskInfo? task = null)
    {
        var folder = NewFolder(root, name);
        var rows = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            var path = $"audio/{i}.wav";
            TestAudio.WritePcm16(Path.Combine(folder, path), TestAudio.ToneFor(name + path, 0.1, 16000), 16000);
            rows.Add($"{path},{(i % 2 == 0 ? "dog" : "cat")},{(i < 2 ? "train" : "test")},0");
        }
        var csv = Path.Combine(folder, "m.csv");
        Json.Save(Manifest.SidecarPath(csv), task ?? FuzzTask);
        return (folder, csv, rows);
    }

    static IEnumerable<Case> ManifestCases(string root, Random random)
    {
        var variants = new List<(string Name, Func<string, List<string>, byte[]> Text, string? Mention)>
        {
            ("duplicate-row", (_, rows) => Lines([Header, .. rows, rows[random.Next(rows.Count)]]), "listed twice"),
            ("leakage-by-path", (_, rows) => Lines([Header, .. rows, rows[0].Replace("train", "test")]), "leaks"),
            ("leakage-by-content", (folder, rows) =>
            {
                File.Copy(Path.Combine(folder, "audio/0.wav"), Path.Combine(folder, "audio/copy.wav"));
                return Lines([Header, .. rows, "audio/copy.wav,dog,test,0"]);
            }, "identical content"),
            ("outside-root-relative", (folder, rows) =>
            {
                File.Copy(Path.Combine(folder, "audio/0.wav"), Path.Combine(folder, "..", Path.GetFileName(folder) + "-outside.wav"));
                return Lines([Header, .. rows, $"../{Path.GetFileName(folder)}-outside.wav,dog,train,0"]);
            }, "outside the audio root"),
            ("outside-root-absolute", (_, rows) => Lines([Header, .. rows, "/etc/hostname,dog,train,0"]), "outside the audio root"),
            ("unknown-label", (_, rows) => Lines([Header, .. rows, $"audio/0.wav,{RandomWord(random)},valid,0"]), "unknown label"),
            ("two-labels-multiclass", (_, rows) => Lines([Header, rows[0].Replace(",dog,", ",dog;cat,"), .. rows[1..]]), "exactly one label"),
            ("bad-fold", (_, rows) => Lines([Header, .. rows[..3], rows[3][..rows[3].LastIndexOf(',')] + "," + RandomWord(random)]), "not an integer"),
            ("empty-path", (_, rows) => Lines([Header, .. rows, ",dog,train,0"]), "empty path"),
            ("missing-column", (_, rows) =>
            {
                var columns = Header.Split(',').ToList();
                columns.RemoveAt(random.Next(3));
                return Lines([string.Join(',', columns), .. rows]);
            }, "missing column"),
            ("missing-audio", (_, rows) => Lines([Header, .. rows, "audio/nope.wav,dog,train,0"]), "not found"),
            ("unterminated-quote", (_, rows) => Lines([Header, .. rows, "\"audio/0.wav,dog,train,0"]), null),
            ("empty-file", (_, _) => [], null),
            ("random-bytes", (_, _) =>
            {
                var b = new byte[random.Next(16, 4096)];
                random.NextBytes(b);
                b[random.Next(b.Length)] = 0xFF;   // never valid UTF-8
                return b;
            }, "invalid UTF-8"),
        };
        // Invalid UTF-8 on a random data line: the error must name that line.
        for (int i = 0; i < 3; i++)
        {
            int line = random.Next(2, 6);
            variants.Add(($"invalid-utf8-line-{line}-{i}", (_, rows) =>
            {
                var text = Lines([Header, .. rows]);
                int start = IndexOfLine(text, line) + 6;   // inside the path "audio/N.wav"
                var bad = new byte[] { 0xC3, 0xED, 0xFF, 0xFE, 0x80 }[random.Next(5)];
                return [.. text[..start], bad, .. text[start..]];
            }, $"line {line}: invalid UTF-8"));
        }

        foreach (var (name, text, mention) in variants)
        {
            var (folder, csv, rows) = ManifestFolder(root, "manifest-" + name);
            File.WriteAllBytes(csv, text(folder, rows));
            yield return new Case("manifest " + name, folder, ["data", "check", csv], csv, mention);
        }
    }

    static byte[] Lines(IEnumerable<string> lines) => Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");

    static int IndexOfLine(byte[] text, int line)
    {
        int at = 0;
        for (int l = 1; l < line; l++) at = Array.IndexOf(text, (byte)'\n', at) + 1;
        return at;
    }

    static string RandomWord(Random random) => new(Enumerable.Range(0, random.Next(3, 9)).Select(_ => (char)('a' + random.Next(26))).ToArray());

    // ---- Manifest sidecars: `bat data check M.csv`, the error names M.json ----

    static IEnumerable<Case> SidecarCases(string root, Random random)
    {
        var valid = Json.Serialize(FuzzTask);
        var variants = new List<(string Name, byte[] Json)>();
        for (int i = 0; i < 3; i++) variants.Add(($"truncated-{i}", Encoding.UTF8.GetBytes(valid[..random.Next(0, valid.Length - 1)])));
        foreach (var (field, value) in new[]
        {
            ("classes", "5"), ("classes", "null"), ("classes", "[]"), ("classes", "[\"dog\", \"dog\"]"), ("classes", "[\"dog;cat\"]"),
            ("classes", "[null]"), ("name", "null"), ("name", "\"\""), ("kind", "\"bogus\""), ("kind", "7"), ("sampleRate", "-1"),
            ("sampleRate", "1e20"), ("clipSeconds", "\"long\""), ("clipSeconds", "0"), ("metric", "null"), ("audioRoots", "[\"\"]"),
            ("allowLeakage", "\"yes\""),
        })
        {
            var doc = System.Text.Json.Nodes.JsonNode.Parse(valid)!.AsObject();
            doc[field] = System.Text.Json.Nodes.JsonNode.Parse(value);
            variants.Add(($"{field}={value}", Encoding.UTF8.GetBytes(doc.ToJsonString())));
        }
        variants.Add(("not-an-object", "[1, 2]"u8.ToArray()));
        variants.Add(("null-document", "null"u8.ToArray()));
        variants.Add(("deep-nesting", Encoding.UTF8.GetBytes(new string('[', 5000) + new string(']', 5000))));
        variants.Add(("invalid-utf8-class", [.. Encoding.UTF8.GetBytes(valid.Replace("\"dog\"", "\"d")), 0xE9, .. "g\""u8.ToArray()]));
        {
            var garbage = new byte[random.Next(1, 2048)];
            random.NextBytes(garbage);
            variants.Add(("random-bytes", garbage));
        }
        variants.Add(("too-large", [.. "{\"name\": \""u8.ToArray(), .. Enumerable.Repeat((byte)'a', 17 << 20), .. "\"}"u8.ToArray()]));

        int n = 0;
        foreach (var (name, json) in variants)
        {
            var (folder, csv, rows) = ManifestFolder(root, $"sidecar-{n++}");
            File.WriteAllBytes(csv, Lines([Header, .. rows]));
            var sidecar = Manifest.SidecarPath(csv);
            File.WriteAllBytes(sidecar, json);
            yield return new Case("sidecar " + name, folder, ["data", "check", csv], sidecar);
        }
    }

    // ---- Run folders: `bat embed --checkpoint RUN/checkpoints/step-000001.pt`: config.json, checkpoint header, cache header ----

    static readonly byte[] CheckpointMagic = "BATCKPT1\n"u8.ToArray();

    static byte[] CheckpointBytes(string headerJson, int dataFloats, int? declaredLength = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[CheckpointMagic.Length + 4 + header.Length + 4 * dataFloats];
        CheckpointMagic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(CheckpointMagic.Length), declaredLength ?? header.Length);
        header.CopyTo(bytes, CheckpointMagic.Length + 4);
        return bytes;
    }

    static IEnumerable<Case> RunCases(string root, Random random)
    {
        var config = Json.Serialize(new PretrainConfig
        {
            Preset = "smoke", Encoder = EncoderConfig.Tiny with { Depth = 1 }, Frontend = new FrontendConfig(FrontendConfig.Bat, 64, 512),
        });
        const string goodHeader = "{\"step\":1,\"seed\":0,\"tensors\":[{\"name\":\"student.a\",\"shape\":[2,2],\"offset\":0}]}";
        var checkpoints = new List<(string Name, byte[] Bytes, bool FixChecksum)>
        {
            ("bad-magic", [.. "BATCKPT2\n"u8.ToArray(), .. CheckpointBytes(goodHeader, 4)[CheckpointMagic.Length..]], true),
            ("header-length-negative", CheckpointBytes(goodHeader, 4, declaredLength: -random.Next(1, int.MaxValue)), true),
            ("header-length-beyond-file", CheckpointBytes(goodHeader, 4, declaredLength: random.Next(200, int.MaxValue)), true),
            ("header-length-zero", CheckpointBytes(goodHeader, 4, declaredLength: 0), true),
            ("header-not-json", CheckpointBytes("{\"step\": tru", 4), true),
            ("header-truncated", CheckpointBytes(goodHeader[..random.Next(1, goodHeader.Length - 1)], 4), true),
            ("tensors-null", CheckpointBytes("{\"step\":1,\"seed\":0,\"tensors\":null}", 4), true),
            ("negative-dimension", CheckpointBytes(goodHeader.Replace("[2,2]", $"[-{random.Next(1, 1000)},-2]"), 4), true),
            ("overflowing-shape", CheckpointBytes(goodHeader.Replace("[2,2]", "[4611686018427387904,4611686018427387904,4]"), 4), true),
            ("huge-shape", CheckpointBytes(goodHeader.Replace("[2,2]", $"[{random.Next(1 << 20, int.MaxValue)},1024]"), 4), true),
            ("offset-beyond-data", CheckpointBytes(goodHeader.Replace("\"offset\":0", $"\"offset\":{random.Next(1, 1 << 30)}"), 4), true),
            ("offset-negative", CheckpointBytes(goodHeader.Replace("\"offset\":0", "\"offset\":-8"), 4), true),
            ("duplicate-tensor", CheckpointBytes(goodHeader.Replace("]}]}", "]},{\"name\":\"student.a\",\"shape\":[1],\"offset\":0}]}"), 4), true),
            ("shape-string", CheckpointBytes(goodHeader.Replace("[2,2]", "\"2x2\""), 4), true),
            ("step-overflow", CheckpointBytes(goodHeader.Replace("\"step\":1", "\"step\":1e400"), 4), true),
            ("wrong-tensors-for-the-model", CheckpointBytes(goodHeader, 4), true),
            ("checksum-mismatch", CheckpointBytes(goodHeader, 4), false),
        };
        var goodCheckpoint = CheckpointBytes(goodHeader, 4);
        var configs = new List<(string Name, string Json)>
        {
            ("truncated", config[..random.Next(1, config.Length - 1)]),
            ("encoder-null", config.Replace("\"encoder\": {", "\"encoder\": null, \"x\": {")),
            ("dim-negative", config.Replace("\"dim\": 192", "\"dim\": -192")),
            ("depth-huge", config.Replace("\"depth\": 1,", $"\"depth\": {random.Next(1000, int.MaxValue)},")),
            ("dim-overflow", config.Replace("\"dim\": 192", "\"dim\": 99999999999")),
            ("frontend-kind", config.Replace("\"kind\": \"bat\"", "\"kind\": \"wavelet\"")),
            ("not-an-object", "[]"),
        };

        IEnumerable<(string Name, string Folder, string Culprit, string Manifest, string Out, string? Mention)> Runs()
        {
            int n = 0;
            foreach (var (name, bytes, fix) in checkpoints)
            {
                var (folder, checkpoint, manifest) = RunFolder(root, $"checkpoint-{n++}", config, bytes, fix);
                yield return ("checkpoint " + name, folder, checkpoint, manifest, Path.Combine(folder, "cache"), null);
            }
            foreach (var (name, json) in configs)
            {
                var (folder, _, manifest) = RunFolder(root, $"config-{n++}", json, goodCheckpoint, true);
                yield return ("config.json " + name, folder, Path.Combine(folder, "run", "config.json"), manifest, Path.Combine(folder, "cache"), null);
            }
            // A cache header that does not parse: the error names the cache file, which stays as it was.
            foreach (var (name, header) in new[] { ("not-json", "{\"version\": 1, \"clips\": "), ("negative-sizes", "{\"version\":1,\"split\":\"train\",\"checkpointSha256\":\"x\",\"manifestSha256\":\"y\",\"clips\":-5,\"layers\":-1,\"tokens\":0,\"dim\":0,\"dType\":\"float16\",\"paths\":[]}") })
            {
                var (folder, _, manifest) = RunFolder(root, $"cache-{n++}", config, goodCheckpoint, true);
                var cache = EmbeddingCacheFile(Path.Combine(folder, "cache"), header);
                yield return ("embedding cache " + name, folder, cache, manifest, Path.Combine(folder, "cache"), null);
            }
        }

        foreach (var (name, folder, culprit, manifest, outDir, mention) in Runs())
            yield return new Case(name, folder, ["embed", "--checkpoint", Path.Combine(folder, "run", "checkpoints", "step-000001.pt"),
                "--manifest", manifest, "--out", outDir, "--split", "train"], culprit, mention);
    }

    static (string Folder, string Checkpoint, string Manifest) RunFolder(string root, string name, string configJson, byte[] checkpoint, bool fixChecksum)
    {
        var (folder, csv, rows) = ManifestFolder(root, name);
        File.WriteAllBytes(csv, Lines([Header, .. rows]));
        var run = Path.Combine(folder, "run");
        Directory.CreateDirectory(Path.Combine(run, "checkpoints"));
        File.WriteAllText(Path.Combine(run, "config.json"), configJson);
        var path = Path.Combine(run, "checkpoints", "step-000001.pt");
        File.WriteAllBytes(path, checkpoint);
        var hash = fixChecksum ? Convert.ToHexStringLower(SHA256.HashData(checkpoint)) : new string('0', 64);
        File.WriteAllText(path + ".sha256", $"{hash}  step-000001.pt\n");
        return (folder, path, csv);
    }

    static string EmbeddingCacheFile(string folder, string headerJson)
    {
        Directory.CreateDirectory(folder);
        var path = Bat.Probing.EmbeddingCache.FileFor(folder, "train");
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + 4 + header.Length];
        "BATEMB01"u8.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), header.Length);
        header.CopyTo(bytes, 12);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
