using System.CommandLine;
using Bat.Data;
using Bat.Data.Builders;
using Bat.Data.Synth;

namespace Bat.Cli.Commands;

/// <summary>`bat data ...`: the synthetic benchmark and manifest builders for the datasets users bring.</summary>
public static class DataCommands
{
    public static Command Create()
    {
        var data = new Command("data", "Make the synthetic benchmark and build manifests for ESC-50, Speech Commands, AudioSet and HEAR tasks.");
        data.Subcommands.Add(Synth());
        data.Subcommands.Add(ManifestCommands());
        data.Subcommands.Add(Check());
        data.Subcommands.Add(Subset());
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
            Preflight.EnsureWritable(parse.GetValue(outDir)!);
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

    static Command Subset()
    {
        var csv = new Argument<string>("manifest") { Description = "Source manifest CSV (left unchanged)." };
        var outCsv = new Option<string>("--out") { Description = "The new manifest CSV, beside the source (its .json sidecar is written too).", Required = true };
        var take = new Option<string[]>("--take")
        {
            Description = "split=count: keep the first count rows of that split (repeatable); other splits keep every row.",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var perClass = new Option<bool>("--per-class")
        {
            Description = "Single-label tasks: count is per class, drawn at random with --seed (a label budget: split=8 keeps 8 clips of every class).",
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the --per-class draw.", DefaultValueFactory = _ => 0 };
        var command = new Command("subset",
            "Write a manifest that keeps the first N rows of some splits, e.g. a small train split beside large valid and test splits, " +
            "or (--per-class) N random clips of each class: a label budget for label-efficiency runs.")
        {
            csv, outCsv, take, perClass, seed,
        };
        command.SetGuardedAction(parse =>
        {
            var counts = new Dictionary<string, int>();
            foreach (var t in parse.GetValue(take)!)
            {
                var (split, n) = ManifestSubset.ParseTake(t);
                if (!counts.TryAdd(split, n)) throw new BatException("--take", $"split '{split}' is named twice");
            }
            var m = ManifestSubset.Write(parse.GetValue(csv)!, parse.GetValue(outCsv)!, counts, parse.GetValue(perClass), parse.GetValue(seed));
            Console.WriteLine($"wrote {m.CsvPath}: {m.Task.Name}, " + string.Join(", ", m.Splits.Select(s => $"{s} {m.Split(s).Count}")));
            return 0;
        });
        return command;
    }

    static Command Check()
    {
        var csv = new Argument<string>("manifest") { Description = "Manifest CSV (its .json sidecar beside it)." };
        var root = new Option<string?>("--audio-root") { Description = "Audio root: paths are relative to it and must stay inside it (default: the manifest's folder, or the sidecar's audioRoots)." };
        var leakage = new Option<bool>("--allow-leakage") { Description = "Accept the same audio (by path or content) in two splits." };
        var outside = new Option<bool>("--allow-outside-root") { Description = "Accept paths that lead outside the audio root." };
        var command = new Command("check",
            "Load a manifest strictly: UTF-8, no duplicate rows, no audio in two splits (by path and content), no path outside the audio root, every audio file present; print classes and split sizes.")
        {
            csv, root, leakage, outside,
        };
        command.SetGuardedAction(parse =>
        {
            var m = Manifest.Load(parse.GetValue(csv)!, parse.GetValue(root), checkAudio: true,
                allowLeakage: parse.GetValue(leakage), allowOutsideRoot: parse.GetValue(outside));
            Console.WriteLine($"{m.Task.Name}: {m.Task.Kind.ToString().ToLowerInvariant()}, {m.Task.NumClasses} classes, " +
                              $"{m.Task.ClipSeconds} s clips at {m.Task.SampleRate} Hz, metric {m.Task.Metric}");
            foreach (var split in m.Splits) Console.WriteLine($"  {split,-8} {m.Split(split).Count} clips");
            var counts = m.Task.Classes.ToDictionary(c => c, _ => 0);
            foreach (var e in m.Entries) foreach (var l in e.Labels) counts[l]++;
            Console.WriteLine($"  clips per class: min {counts.Values.Min()}, max {counts.Values.Max()}");
            return 0;
        });
        return command;
    }

    static Command ManifestCommands()
    {
        var manifest = new Command("manifest", "Build a manifest (CSV + JSON sidecar) for a dataset on disk.");
        manifest.Subcommands.Add(Esc50());
        manifest.Subcommands.Add(SpeechCommands());
        manifest.Subcommands.Add(AudioSet());
        manifest.Subcommands.Add(Hear());
        manifest.Subcommands.Add(Events());
        return manifest;
    }

    static Command Events()
    {
        var source = new Option<string>("--manifest") { Description = "Clip manifest CSV whose clips the events belong to (e.g. synth-multilabel.csv).", Required = true };
        var events = new Option<string?>("--events") { Description = "Events CSV: path,class,onset and offset or duration, in seconds (default: <manifest>-events.csv, as `bat data synth` writes it)." };
        var outCsv = new Option<string>("--out") { Description = "Event-labelled manifest CSV to write (its events go to <out>-events.csv).", Required = true };
        var command = new Command("events", "Clip manifest + events CSV -> an event-labelled manifest (sound event detection: `bat probe` runs the DCASE 2016 task 2 recipe on it).")
        {
            source, events, outCsv,
        };
        command.SetGuardedAction(parse =>
        {
            Preflight.EnsureWritableFile(parse.GetValue(outCsv)!);
            var r = EventManifestBuilder.Build(parse.GetValue(source)!, parse.GetValue(events), parse.GetValue(outCsv)!);
            Console.WriteLine($"{r.Clips} clips, {r.EventCount} events -> {r.Manifest} and {r.Events}");
            return 0;
        });
        return command;
    }

    /// <summary>Checks the manifests' folder is writable before reading a dataset (a missing dataset folder is the builder's error to report).</summary>
    static void PreflightOut(string? outDir, string datasetDir)
    {
        if (outDir is not null || Directory.Exists(datasetDir)) Preflight.EnsureWritable(outDir ?? datasetDir);
    }

    static Option<string> OutDirOption() => new("--out") { Description = "Folder for the manifests (default: the dataset folder)." };

    static Command Esc50()
    {
        var root = new Option<string>("--root") { Description = "ESC-50 folder (with meta/esc50.csv and audio/).", Required = true };
        var outDir = OutDirOption();
        var command = new Command("esc50", "ESC-50: 50 classes, 5 folds (folds 1-3 train, 4 valid, 5 test); also writes esc10.csv.") { root, outDir };
        command.SetGuardedAction(parse =>
        {
            PreflightOut(parse.GetValue(outDir), parse.GetValue(root)!);
            var r = Esc50Builder.Build(parse.GetValue(root)!, parse.GetValue(outDir));
            Console.WriteLine($"{r.Clips} clips -> {r.Esc50}, {r.Esc10}");
            return 0;
        });
        return command;
    }

    static Command SpeechCommands()
    {
        var root = new Option<string>("--root") { Description = "Speech Commands v2 folder (word folders, *_list.txt, _background_noise_/).", Required = true };
        var outDir = OutDirOption();
        var command = new Command("speechcommands", "Speech Commands v2, 12 classes (10 words, _silence_, _unknown_).") { root, outDir };
        command.SetGuardedAction(parse =>
        {
            PreflightOut(parse.GetValue(outDir), parse.GetValue(root)!);
            var r = SpeechCommandsBuilder.Build(parse.GetValue(root)!, parse.GetValue(outDir));
            Console.WriteLine($"{r.Clips} clips ({r.SilenceChunks} silence chunks; " +
                              string.Join(", ", r.PerSplit.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}")) + $") -> {r.Manifest}");
            return 0;
        });
        return command;
    }

    static Command AudioSet()
    {
        var segments = new Option<string[]>("--segments")
        {
            Description = "Segment CSV(s), optionally as split=path (default split: test if the name contains 'eval', else train).",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var labels = new Option<string>("--labels") { Description = "class_labels_indices.csv (index,mid,display_name; a copy is in data-manifests/).", Required = true };
        var pattern = new Option<string>("--audio-pattern") { Description = "Path pattern of local audio, e.g. {root}/{ytid}_{start}.wav.", Required = true };
        var audioRoot = new Option<string?>("--audio-root") { Description = "Value of {root} (default: the segment CSV's folder)." };
        var outCsv = new Option<string>("--out") { Description = "Manifest CSV to write.", Required = true };
        var command = new Command("audioset", "AudioSet segment lists -> 527-class multi-label manifest; missing audio is reported.")
        {
            segments, labels, pattern, audioRoot, outCsv,
        };
        command.SetGuardedAction(parse =>
        {
            var sources = parse.GetValue(segments)!.Select(s =>
            {
                int eq = s.IndexOf('=');
                return eq > 0 ? new AudioSetBuilder.Source(s[(eq + 1)..], s[..eq]) : new AudioSetBuilder.Source(s, AudioSetBuilder.DefaultSplit(s));
            }).ToList();
            Preflight.EnsureWritableFile(parse.GetValue(outCsv)!);
            var r = AudioSetBuilder.Build(sources, parse.GetValue(labels)!, parse.GetValue(pattern)!, parse.GetValue(outCsv)!, parse.GetValue(audioRoot));
            Console.WriteLine($"{r.Found} segments with audio -> {r.Manifest}");
            if (r.Missing > 0) Console.WriteLine($"{r.Missing} segments without audio (not in the manifest), listed in {r.MissingReport}");
            return 0;
        });
        return command;
    }

    static Command Hear()
    {
        var taskDir = new Option<string>("--task-dir") { Description = "HEAR task folder (task_metadata.json, labelvocabulary.csv, <split>.json).", Required = true };
        var outDir = OutDirOption();
        var rate = new Option<int?>("--sample-rate") { Description = "Which <sample_rate>/ audio folder to use (default 16000 if present)." };
        var command = new Command("hear", "A HEAR 2021 task -> manifest: scene tasks as clip labels, event tasks (e.g. dcase2016_task2-hear2021) as an event-labelled manifest plus its events CSV.") { taskDir, outDir, rate };
        command.SetGuardedAction(parse =>
        {
            PreflightOut(parse.GetValue(outDir), parse.GetValue(taskDir)!);
            var r = HearBuilder.Build(parse.GetValue(taskDir)!, parse.GetValue(outDir), parse.GetValue(rate));
            Console.WriteLine($"{r.Clips} clips at {r.SampleRate} Hz -> {r.Manifest}");
            return 0;
        });
        return command;
    }
}
