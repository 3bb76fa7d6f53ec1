using System.CommandLine;

namespace Bat.Cli.Commands;

/// <summary>`bat bench ...`: speed and memory measurements reported as rates and ratios.</summary>
public static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure speed and memory of the suite's hot paths (ratios within one run; never compared across machines).");
        bench.Subcommands.Add(FrontendCommands.Bench());
        bench.Subcommands.Add(PretrainCommands.Bench());
        return bench;
    }
}
