using System.CommandLine;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Bat.Cli.Commands;

/// <summary>`bat info`: versions, threads and device, i.e. what a result was computed with.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Print versions, threads and the device the suite will use.");
        command.SetGuardedAction(_ =>
        {
            Console.WriteLine($"bat          {typeof(BatException).Assembly.GetName().Version}");
            Console.WriteLine($".NET         {RuntimeInformation.FrameworkDescription}");
            Console.WriteLine($"OS           {RuntimeInformation.OSDescription}");
            Console.WriteLine($"TorchSharp   {typeof(torch).Assembly.GetName().Version}");
            Console.WriteLine($"threads      {torch.get_num_threads()}");
            Console.WriteLine($"device       {Devices.Default}");
            return 0;
        });
        return command;
    }
}
