using System.Text.RegularExpressions;
using Bat.Tests.Runner;

namespace Bat.Tests.Data;

/// <summary>
/// The data builders in data-manifests/ (not run in CI: they install Debian packages and take minutes) must write the
/// same audio on every run, or the results measured on them cannot be repeated. Two builds once differed in every
/// resampled clip: sox seeds its dither and noise from the clock unless given -R, and a RANDOM draw inside a $(...)
/// subshell is re-seeded by bash. These checks read the scripts for both.
/// </summary>
public class BuilderScriptTests
{
    static IEnumerable<(string Script, int Line, string Text)> ScriptLines() =>
        Directory.GetFiles(Path.Combine(KernelClientsTests.RepoRoot(), "data-manifests"), "build-*.sh")
            .SelectMany(path => File.ReadAllLines(path).Select((text, i) => (Path.GetFileName(path), i + 1, text)))
            .Where(l => !l.Item3.TrimStart().StartsWith('#'));

    [Fact]
    public void TheBuildersExist()
    {
        var scripts = ScriptLines().Select(l => l.Script).Distinct().ToList();
        Assert.Contains("build-offline-benchmark.sh", scripts);
        Assert.Contains("build-pretrain-pool.sh", scripts);
    }

    [Fact]
    public void EverySoxCallIsRepeatable()
    {
        var calls = ScriptLines().Where(l => Regex.IsMatch(l.Text, @"(^|[\s;(|&])sox\s") && !l.Text.Contains("command -v sox")).ToList();
        Assert.NotEmpty(calls);
        var unseeded = calls.Where(l => !Regex.IsMatch(l.Text, @"(^|[\s;(|&])sox\s+(-\S+\s+)*-R\b")).ToList();
        Assert.True(unseeded.Count == 0, "sox without -R (dither and noise seeded from the clock): " +
            string.Join("; ", unseeded.Select(l => $"{l.Script}:{l.Line}")));
    }

    [Fact]
    public void NoRandomDrawInsideACommandSubstitution()
    {
        var inside = ScriptLines().Where(l => CommandSubstitutions(l.Text).Any(s => s.Contains("RANDOM"))).ToList();
        Assert.True(inside.Count == 0, "RANDOM inside $(...), which bash re-seeds: " +
            string.Join("; ", inside.Select(l => $"{l.Script}:{l.Line}")));
    }

    [Theory]
    [InlineData("for k in $(seq 1 $((3 + RANDOM % 3))); do", true)]
    [InlineData("count=$((3 + RANDOM % 3)); for k in $(seq 1 \"$count\"); do", false)]
    [InlineData("x=$(echo a) y=$((RANDOM % 2))", false)]
    [InlineData("x=$(f $(g RANDOM))", true)]
    public void TheSubstitutionReaderFindsDrawsInsideOnly(string line, bool inside) =>
        Assert.Equal(inside, CommandSubstitutions(line).Any(s => s.Contains("RANDOM")));

    /// <summary>The text of each $(...) on a line (not $((...)) arithmetic, which runs in the same shell), nested ones included.</summary>
    static IEnumerable<string> CommandSubstitutions(string line)
    {
        for (int i = 0; i + 1 < line.Length; i++)
        {
            if (line[i] != '$' || line[i + 1] != '(' || (i + 2 < line.Length && line[i + 2] == '(')) continue;
            int depth = 0, end = i + 1;
            for (; end < line.Length; end++)
            {
                if (line[end] == '(') depth++;
                else if (line[end] == ')' && --depth == 0) break;
            }
            yield return line[(i + 2)..Math.Min(end, line.Length)];
        }
    }
}
