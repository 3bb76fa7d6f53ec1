using System.Diagnostics;
using Bat.Data.Synth;

namespace Bat.Tests.Reliability;

/// <summary>
/// The reliability drill of the main job: `bat pretrain` killed (SIGKILL, no chance to save) at a random step and
/// resumed gives the same loss at every step as a run that was never interrupted: no step lost, none repeated.
/// </summary>
public class KillAndResumeDrillTests : IDisposable
{
    const int Steps = 30;

    /// <summary>Each test's scratch folder, with a small embedded benchmark to pre-train on.</summary>
    readonly string root = Path.Combine(Path.GetTempPath(), "bat-drill-" + Guid.NewGuid().ToString("N"));
    readonly string manifest;

    public KillAndResumeDrillTests() =>
        manifest = SyntheticBenchmark.Ensure(Path.Combine(root, "data"), clips: 24, seed: 5, seconds: 2).MultiLabel;

    public void Dispose()
    {
        try { Directory.Delete(root, true); } catch (IOException) { }
    }

    static string[] PretrainArgs(string manifest, string run) =>
        ["pretrain", "--preset", "smoke", "--manifest", manifest, "--out", run, "--steps", Steps.ToString(),
         "--batch", "2", "--clones", "2", "--checkpoint-every", "2", "--seed", "3"];

    static ProcessStartInfo Bat(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "bat.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["BAT_QUIET"] = "1";
        return psi;
    }

    static void RunToEnd(IEnumerable<string> args)
    {
        using var process = Process.Start(Bat(args))!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(180_000), "bat pretrain did not finish in 180 s");
        Assert.True(process.ExitCode == 0, $"bat pretrain exited {process.ExitCode}: {stderr.Result}");
    }

    /// <summary>(step, loss) rows of a run's metrics.csv, loss kept as written (exact comparison).</summary>
    static List<(int Step, string Loss)> Losses(string run) =>
        File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1)
            .Select(l => l.Split(','))
            .Select(f => (int.Parse(f[0]), f[1]))
            .ToList();

    static int LastStep(string run)
    {
        try { return File.Exists(Path.Combine(run, "metrics.csv")) ? File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length - 1 : 0; }
        catch (IOException) { return 0; } // being replaced right now
    }

    /// <summary>Polls the run's metrics until it has logged <paramref name="step"/> steps; fails if the process exits first.</summary>
    static void WaitUntilStep(Process process, string run, int step)
    {
        var clock = Stopwatch.StartNew();
        while (!process.HasExited && LastStep(run) < step && clock.Elapsed < TimeSpan.FromSeconds(120))
            Thread.Sleep(5);
        Assert.False(process.HasExited, $"bat pretrain exited before step {step}");
        Assert.True(LastStep(run) >= step, $"bat pretrain did not reach step {step} in 120 s");
    }

    [Fact]
    public void Pretrain_killed_at_a_random_step_resumes_to_the_uninterrupted_trajectory()
    {
        var straight = Path.Combine(root, "straight");
        RunToEnd(PretrainArgs(manifest, straight));
        var expected = Losses(straight);
        Assert.Equal(Enumerable.Range(1, Steps), expected.Select(r => r.Step));

        // Kill somewhere in the middle; the step is random so repeated CI runs probe different points.
        int killAfter = Random.Shared.Next(3, Steps / 2); // early enough that the kill always lands before the end
        var interrupted = Path.Combine(root, "interrupted");
        using (var process = Process.Start(Bat(PretrainArgs(manifest, interrupted)))!)
        {
            _ = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            WaitUntilStep(process, interrupted, killAfter);
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        int reached = LastStep(interrupted);
        Assert.InRange(reached, killAfter, Steps - 1);

        RunToEnd([.. PretrainArgs(manifest, interrupted), "--resume"]);
        var resumed = Losses(interrupted);
        Assert.True(expected.SequenceEqual(resumed),
            $"killed after step {reached} (target {killAfter}); resumed losses differ from the uninterrupted run:\n" +
            string.Join("\n", expected.Zip(resumed).Where(p => p.First != p.Second).Take(5).Select(p => $"{p.First} vs {p.Second}")));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int SendSignal(int pid, int signal);
    const int SigTerm = 15;

    [Fact]
    public async Task Pretrain_stopped_by_sigterm_saves_a_checkpoint_at_the_step_it_reached()
    {
        var run = Path.Combine(root, "run");
        var args = PretrainArgs(manifest, run);
        args[Array.IndexOf(args, "--checkpoint-every") + 1] = "0";   // no periodic checkpoints: only the signal can save one
        args[Array.IndexOf(args, "--steps") + 1] = "100000";          // far more than the test waits for
        using var process = Process.Start(Bat(args))!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            WaitUntilStep(process, run, 3);
            Assert.Equal(0, SendSignal(process.Id, SigTerm));
            Assert.True(process.WaitForExit(120_000), "bat pretrain did not stop within 120 s of SIGTERM");
            var errors = await stderr;   // the process has exited: its stream is complete

            Assert.True(process.ExitCode == 130, $"exit code {process.ExitCode} (expected 130, stopped): {errors}");
            Assert.Contains("terminated: saving a checkpoint", errors);
            var saved = global::Bat.Training.Checkpoint.All(run).Select(Path.GetFileName).ToList();
            Assert.Equal([$"step-{LastStep(run):D6}.pt"], saved);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
