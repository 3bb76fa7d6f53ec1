using System.CommandLine;

namespace Bat.Cli.Commands;

/// <summary>Every top-level `bat` command, in the order `bat --help` lists them.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return ReproduceCommand.Create();
        yield return DataCommands.Create();
        yield return NotebookCommands.Create();
        yield return KernelCommands.Create();
        yield return FrontendCommands.Create();
        yield return FrontendCommands.Stats();
        yield return PretrainCommands.Create();
        yield return ImportCommand.Create();
        yield return ProbeCommands.Embed();
        yield return ProbeCommands.Create();
        yield return ProbeCommands.Baseline();
        yield return MarginsCommand.Create();
        yield return BenchCommands.Create();
        yield return InfoCommand.Create();
    }
}
