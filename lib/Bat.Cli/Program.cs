using System.CommandLine;
using Bat;
using Bat.Cli;
using Bat.Cli.Commands;

// `bat`: one subcommand per workflow step. Each Commands/*.cs file contributes its commands.
var root = new RootCommand("BAT Notebooks: reproduce 'BAT: Better Audio Transformer Guided by Convex Gated Probing'.");
foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
root.Options.Add(Cli.Verbose);

try
{
    return await root.Parse(args).InvokeAsync();
}
catch (Exception e)
{
    return Cli.Report(e, Console.Error, args.Contains("--verbose"));
}
