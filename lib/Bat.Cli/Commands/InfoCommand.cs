using System.CommandLine;
using Bat.Reporting;

namespace Bat.Cli.Commands;

/// <summary>`bat info`: versions, threads and device, i.e. what a result was computed with.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Print versions, threads and the device the suite will use.");
        command.SetGuardedAction(_ =>
        {
            foreach (var (name, value) in EnvironmentInfo.Describe()) Console.WriteLine($"{name,-18} {value}");
            return 0;
        });
        return command;
    }
}
