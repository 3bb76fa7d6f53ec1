using System.CommandLine;
using Bat.Data;
using Bat.Data.Synth;

namespace Bat.Cli.Commands;

/// <summary>`bat data ...`: the synthetic benchmark and manifest builders for the datasets users bring.</summary>
public static class DataCommands
{
    public static Command Create()
    {
        var data = new Command("data", "Make the synthetic benchmark and build manifests for ESC-50, Speech Commands, AudioSet and HEAR tasks.");
        data.Subcommands.Add(Synth());
        return data;
    }

    static Command Synth()
    {
        var outDir = new Option<string>("--out") { Description = "Output folder.", Required = true };
        var clips = new Option<int>("--clips") { Description = "Clips per task (multi-label and single-label).", DefaultValueFactory = _ => 2000 };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var seconds = new Option<double>("--seconds") { Description = "Clip length in seconds.", DefaultValueFactory = _ => 5.0 };
        var command = new Command("synth", "Generate the embedded synthetic benchmark (16 event classes, multi-label and single-label tasks).")
        {
            outDir, clips, seed, seconds,
        };
        command.SetGuardedAction(parse =>
        {
            var config = new SynthConfig(parse.GetValue(clips), parse.GetValue(seed), parse.GetValue(seconds));
            var report = SyntheticBenchmark.Generate(parse.GetValue(outDir)!, config, progress: true);
            Console.WriteLine($"wrote {report.Files} clips ({config.Clips} per task, {config.Seconds} s, {config.SampleRate} Hz) " +
                              $"in {report.Elapsed.TotalSeconds:F1} s on {Environment.ProcessorCount} cores");
            foreach (var m in report.Manifests.All) Console.WriteLine($"manifest {m}");
            Console.WriteLine();
            Console.Write(report.BalanceTable());
            return 0;
        });
        return command;
    }
}
