using System.CommandLine;
using Bat.Pretraining;

namespace Bat.Cli.Commands;

/// <summary>`bat bench ...`: speed and memory measurements reported as rates and ratios.</summary>
public static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure speed and memory of the suite's hot paths (ratios within one run; never compared across machines).");
        bench.Subcommands.Add(FrontendCommands.Bench());
        bench.Subcommands.Add(Pretrain());
        bench.Subcommands.Add(ProbeCommands.Bench());
        return bench;
    }

    static Command Pretrain()
    {
        var preset = new Option<string>("--preset") { Description = "Model size: tiny|small|base.", DefaultValueFactory = _ => "tiny" };
        var steps = new Option<int>("--steps") { Description = "Timed steps (after 3 warm-up steps).", DefaultValueFactory = _ => 100 };
        var variant = new Option<string>("--variant") { Description = "Ablation variant (eat, bat-frontend, bat-eob, bat-cnn, bat).", DefaultValueFactory = _ => "bat" };
        var batch = new Option<int?>("--batch") { Description = "Clips per step (default: the preset's plan)." };
        var clones = new Option<int?>("--clones") { Description = "Masked clones per clip (default: the preset's plan)." };
        var command = new Command("pretrain", "Pre-training step speed, time split and RSS on random features.")
        {
            preset, steps, variant, batch, clones,
        };
        command.SetGuardedAction(parse =>
        {
            var plan = PretrainPlan.For(parse.GetValue(preset)!);
            var config = PretrainVariant.Named(parse.GetValue(variant)!).Config(plan);
            config = config with
            {
                Batch = parse.GetValue(batch) ?? config.Batch,
                Clones = parse.GetValue(clones) ?? config.Clones,
            };
            int n = parse.GetValue(steps);
            if (n < 1) throw new BatException("--steps", "must be at least 1");
            Console.WriteLine($"bench pretrain: preset {plan.Preset}, variant {config.Variant}, batch {config.Batch} x {config.Clones} clones, " +
                              $"{n} steps, {TorchSharp.torch.get_num_threads()} threads, device {Devices.Default}");
            using var progress = new ConsoleProgress("bench", n);
            var r = PretrainBench.Run(config, n, progress: s => progress.Report(s));
            progress.Dispose();
            Console.WriteLine($"steps/s      {r.StepsPerSecond:F2}  ({1000 / r.StepsPerSecond:F0} ms/step)");
            Console.WriteLine($"clips/s      {r.ClipsPerSecond:F1}");
            Console.WriteLine($"peak RSS     {r.PeakRssMb:F0} MB");
            foreach (long at in new long[] { 1, 100, 500, 1000, n }.Distinct().Where(s => s <= n))
                Console.WriteLine($"RSS step {at,-5} {r.Rss[(int)at - 1].RssMb:F0} MB");
            if (n >= 500)
                Console.WriteLine($"RSS ratio step 500 / step 100: {r.Rss[499].RssMb / r.Rss[99].RssMb:F3}");
            Console.WriteLine("time split (share of the step):");
            foreach (var (phase, seconds) in r.Timings.Phases)
                Console.WriteLine($"  {phase,-16} {seconds / r.Timings.Total,6:P1}  {1000 * seconds / n,7:F1} ms");
            return 0;
        });
        return command;
    }
}
