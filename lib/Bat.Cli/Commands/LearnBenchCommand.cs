using System.CommandLine;
using Bat.Experiments;
using Bat.Training;

namespace Bat.Cli.Commands;

/// <summary>`bat bench learn`: the untrained control, the pre-trained variants and the log-mel baseline under LP, CGP and fine-tuning.</summary>
public static class LearnBenchCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Model and schedule size: {string.Join("|", Preset.Names)}.", DefaultValueFactory = _ => "tiny" };
        var data = new Option<string>("--data")
        {
            Description = "'synth' (the embedded benchmark), 'synth-wide' (that plus a task scored on 450 test clips, narrow enough to tell recipes apart) or a folder of manifests (e.g. what data-manifests/build-offline-benchmark.sh writes).",
            DefaultValueFactory = _ => ExperimentData.Synth,
        };
        var output = new Option<string>("--out") { Description = "Output folder (pre-training runs, embeddings, learn.csv); complete runs in it are reused.", DefaultValueFactory = _ => "results-learn" };
        var variants = new Option<string[]>("--variants") { Description = "Pre-trained variants to check.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [.. PretrainVariant.Followed] };
        var seed = new Option<int>("--seed") { Description = "Seed of the pre-training runs and probes.", DefaultValueFactory = _ => 0 };
        var probeSeeds = new Option<int>("--probe-seeds")
        {
            Description = "Probe (and fine-tune) every encoder this many times, seeds --seed, --seed + 1, ...: scores are the mean, and the margins' noise band counts the seeds' spread.",
            DefaultValueFactory = _ => 1,
        };
        var pretrainSeeds = new Option<int>("--pretrain-seeds")
        {
            Description = "Pre-train every model this many times, seeds --seed, --seed + 1, ... (each in OUT/pretrain-seed-N, each variant against the control of its own seed): the margins are read over the pre-training seeds, which move them more than the probe seeds do.",
            DefaultValueFactory = _ => 1,
        };
        var melBins = new Option<int?>("--mel-bins") { Description = "Mel bins of every encoder's input (default: the preset's; the papers use 128)." };
        var frames = new Option<int?>("--frames") { Description = "Frames of a pre-training clip (default: the preset's; 256 with --mel-bins 128 keeps tiny's patch count)." };
        var steps = new Option<int?>("--steps") { Description = "Updates of every pre-training run (default: the preset's plan), the warm-up a tenth of them and the EMA decay annealed over all (600 is the real-audio recipe of docs/method.md section 6)." };
        var spreadWeight = new Option<double?>("--spread-weight") { Description = "Spread weight of the variants that have one (bat-spread; default: its own, 3). The run keeps the variant's name; its config.json records the weight (30 is the real-audio recipe of docs/method.md section 6)." };
        var centreTargets = new Option<bool>("--centre-targets") { Description = "Centre the targets of the variants that have a spread term: subtract the batch's mean target per patch position (with --spread-weight 30, the real-audio recipe of docs/method.md section 6)." };
        var spreadNormalised = new Option<bool>("--spread-normalised") { Description = "The spread term of the variants that have one reads the CLS and mean token after a gain-free LayerNorm, as LP's head does (docs/method.md section 6)." };
        var clipFrames = new Option<int?>("--clip-frames") { Description = "Frames kept of each pre-training clip by the variants that have a spread term; more than --frames: each draw takes a random window of --frames from them, so clips longer than the input are seen whole (default: the clip's first --frames)." };
        var weights = ProbeCommands.WeightsOption();
        var command = new Command("learn", "Does pre-training teach the encoders anything? Untrained control vs pre-trained variants vs a log-mel baseline, and the targets of issue 'pre-training that learns'.")
        {
            preset, data, output, variants, seed, probeSeeds, pretrainSeeds, melBins, frames, steps, spreadWeight, centreTargets, spreadNormalised, clipFrames, weights,
        };
        command.SetGuardedAction(parse =>
        {
            var chosen = Preset.Named(parse.GetValue(preset)!).WithInput(parse.GetValue(melBins), parse.GetValue(frames))
                .WithUpdates(parse.GetValue(steps));
            string outDir = parse.GetValue(output)!;
            Preflight.EnsureWritable(outDir);
            var experimentData = ExperimentData.Resolve(parse.GetValue(data)!, outDir, chosen);
            var names = parse.GetValue(variants)!.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
            foreach (var name in names) PretrainVariant.Named(name);   // an unknown name fails before any work
            if (parse.GetValue(weights) == EncoderWeights.Teacher) Console.WriteLine("encoders probed: the EMA teacher of every pre-trained run (a control's teacher is its student)");
            var result = LearningBenchmark.Run(chosen, outDir, experimentData, names, parse.GetValue(seed), parse.GetValue(probeSeeds),
                new LeverOverrides(parse.GetValue(spreadWeight), parse.GetValue(centreTargets), parse.GetValue(clipFrames), parse.GetValue(spreadNormalised)), parse.GetValue(pretrainSeeds),
                parse.GetValue(weights));
            foreach (var line in LearningBenchmark.Format(result)) Console.WriteLine(line);
            return 0;
        });
        return command;
    }
}
