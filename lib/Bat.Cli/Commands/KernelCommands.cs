using System.CommandLine;
using Bat.Notebooks;

namespace Bat.Cli.Commands;

/// <summary>`bat kernel install`: registers the pinned .NET Interactive kernel with Jupyter.</summary>
public static class KernelCommands
{
    public static Command Create()
    {
        var command = new Command("kernel", "The notebooks' kernel (.NET Interactive, pinned in .config/dotnet-tools.json).");
        var path = new Option<string?>("--path") { Description = "Jupyter kernels folder to install into. Default: the user's (~/.local/share/jupyter/kernels)." };
        var install = new Command("install", "Restore the pinned tools and register the \".NET (C#)\" kernel with Jupyter (JupyterLab, nbconvert, VS Code's Jupyter extension).")
        {
            path,
        };
        install.SetGuardedAction(parse =>
        {
            var (dir, _) = KernelProcess.InstallJupyterKernel(parse.GetValue(path));
            Console.WriteLine($"registered the \".NET (C#)\" kernel (kernelspec .net-csharp) in {dir}");
            return 0;
        });
        command.Subcommands.Add(install);
        return command;
    }
}
