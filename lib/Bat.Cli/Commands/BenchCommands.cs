using System.CommandLine;

namespace Bat.Cli.Commands;

/// <summary>`bat bench ...`: speed and memory of the hot paths, reported as rates and ratios within one run.</summary>
public static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure speed and memory of the suite's hot paths (ratios within one run; never compared across machines).");
        bench.Subcommands.Add(FrontendCommands.Bench());
        bench.Subcommands.Add(PretrainCommands.Bench());
        bench.Subcommands.Add(ProbeCommands.Bench());
        bench.Subcommands.Add(LearnBenchCommand.Create());
        return bench;
    }
}
