using System.CommandLine;
using System.Globalization;
using Bat.Audio;
using Bat.Cli.Commands;
using Bat.Frontends;
using Bat.Tests.Audio;
using static Bat.Tests.Audio.TestWav;
using static TorchSharp.torch;

namespace Bat.Tests.Cli;

/// <summary>`bat frontend`, `bat stats` and `bat bench frontend`, run in-process as `bat` would run them.</summary>
public class FrontendCommandTests
{
    static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "fixtures", "frontends");

    internal static (int Code, string Out, string Err) Bat(params string[] args)
    {
        var root = new RootCommand();
        foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void BadWavPrintsOneErrorLine()
    {
        using var dir = new TempDir();
        var full = Riff(Fmt(1, 1, 16000, 16), Chunk("data", Int16(1, 2, 3, 4)));
        var bad = Save(dir, "bad.wav", full[..^3]);
        var csv = dir.File("out.csv");
        var (code, _, err) = Bat("frontend", "--kind", "bat", "--input", bad, "--csv", csv);
        Assert.Equal(1, code);
        Assert.Equal($"error: {bad}: the data chunk claims 8 bytes but only 5 remain in the file (truncated?){Environment.NewLine}", err);
        Assert.False(File.Exists(csv));
    }

    [Theory]
    [InlineData("adpcm.wav", "unsupported encoding: Microsoft ADPCM (format tag 2)")]
    [InlineData("missing.wav", "file not found")]
    [InlineData("text.wav", "not a RIFF/WAVE file")]
    public void OtherBadInputsAreOneLineToo(string name, string problem)
    {
        using var dir = new TempDir();
        var path = dir.File(name);
        if (name == "adpcm.wav") Save(dir, name, Riff(Fmt(2, 1, 16000, 4), Chunk("data", [0, 0])));
        if (name == "text.wav") Save(dir, name, "just some text, not audio"u8.ToArray());
        var (code, _, err) = Bat("frontend", "--kind", "kaldi", "--input", path, "--csv", dir.File("o.csv"));
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {path}: {problem}", err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("bat", 64, null)]
    [InlineData("kaldi", 128, 90)]
    public void FrontendWritesOneRowPerFrame(string kind, int melBins, int? target)
    {
        using var dir = new TempDir();
        var input = Path.Combine(Fixtures, "speech.wav");
        var csv = dir.File("features.csv");
        string[] args = ["frontend", "--kind", kind, "--input", input, "--csv", csv, "--mel-bins", $"{melBins}"];
        if (target is int t) args = [.. args, "--target-frames", $"{t}"];
        var (code, _, err) = Bat(args);
        Assert.True(code == 0, err);
        var lines = File.ReadAllLines(csv);
        Assert.Equal(string.Join(',', Enumerable.Range(0, melBins).Select(m => $"m{m}")), lines[0]);

        using var scope = NewDisposeScope();
        var expected = Frontend.Create(FrontendConfig.For(kind, melBins, target))
            .Compute(tensor(AudioReader.Load(input).Samples).unsqueeze(0)).squeeze(0).squeeze(0);   // (T, M)
        Assert.Equal(expected.shape[0] + 1, lines.Length);   // 0.75 s: 76 bat frames unpadded; 90 kaldi frames padded
        Assert.Equal(target ?? 76, lines.Length - 1);
        var values = expected.data<float>().ToArray();
        for (int row = 1; row < lines.Length; row++)
        {
            var cells = lines[row].Split(',').Select(c => float.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(values.AsSpan((row - 1) * melBins, melBins).ToArray(), cells);
        }
    }

    [Fact]
    public void StatsMeasureTheDatasetAndSaveTheConstants()
    {
        using var dir = new TempDir();
        // A manifest with a relative and an absolute path, plus extra columns the data engineer's format has.
        var clips = new[] { "speech.wav", "noise.wav" }.Select(n => Path.Combine(Fixtures, n)).ToArray();
        File.Copy(clips[0], dir.File("a.wav"));
        File.WriteAllText(dir.File("m.csv"), $"path,labels,split,fold\na.wav,speech,train,1\n\"{clips[1]}\",noise,train,1\n");
        var norm = dir.File("norm.json");
        var (code, output, err) = Bat("stats", "--manifest", dir.File("m.csv"), "--frontend", "kaldi", "--mel-bins", "64", "--save", "two-clips", "--norm-file", norm);
        Assert.True(code == 0, err);

        // Reference: mean and population std of all values of both clips' log fbanks, concatenated.
        using var scope = NewDisposeScope();
        var frontend = new KaldiFrontend(FrontendConfig.Unnormalised("kaldi", 64));
        var all = cat(clips.Select(c => frontend.LogFbank(tensor(AudioReader.Load(c).Samples)).flatten().to_type(ScalarType.Float64)).ToArray(), 0);
        double mean = all.mean().item<double>(), std = all.std(unbiased: false).item<double>();
        Assert.Contains($"mean {mean.ToString("F5", CultureInfo.InvariantCulture)} std {std.ToString("F5", CultureInfo.InvariantCulture)}", output);

        var saved = FrontendNorm.Load(norm).Find("kaldi", "two-clips", 64);
        Assert.Equal(mean, saved.Mean, 4);
        Assert.Equal(std, saved.Std, 4);
        Assert.Contains(FrontendNorm.Load(norm).Constants, c => c.Name == "esc50");   // existing entries kept
        var config = FrontendConfig.For("kaldi", 64, null, "two-clips", norm);
        Assert.Equal(saved.Mean, config.NormMean);
    }

    [Fact]
    public void StatsRejectAManifestWithoutPathColumn()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("m.csv"), "file,label\na.wav,x\n");
        var (code, _, err) = Bat("stats", "--manifest", dir.File("m.csv"));
        Assert.Equal(1, code);
        Assert.Equal($"error: {dir.File("m.csv")}: the first column of a manifest must be 'path'{Environment.NewLine}", err);
    }

    [Fact]
    public void BenchPrintsARowPerFrontendAndBatch()
    {
        var (code, output, err) = Bat("bench", "frontend", "--seconds", "0.5", "--repeats", "1", "--mel-bins", "64");
        Assert.True(code == 0, err);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2).ToArray();
        Assert.Equal(6, rows.Length);
        Assert.EndsWith("1.00x", rows[0].TrimEnd());   // bat at batch 1 is the reference
        foreach (var kind in FrontendConfig.Kinds) Assert.Equal(2, rows.Count(r => r.StartsWith(kind + " ")));
    }
}
