using System.CommandLine;
using System.Globalization;
using Bat.Experiments;
using Bat.Reporting;

namespace Bat.Cli.Commands;

/// <summary>
/// `bat margins`: the margins over an untrained control of results gathered by hand (`bat probe --out` of several
/// runs), with the noise band `bat bench learn` and the report use (docs/method.md section 6), on each task's main
/// metric and, for single-label tasks, macro F1.
/// </summary>
public static class MarginsCommand
{
    /// <summary>One margin as a CSV row: the model and the control it was read against, both scores, the band.</summary>
    public sealed record MarginRow(string Dataset, string Model, string Control, string Probe, string Metric, double Score, double ControlScore,
        double Margin, double Noise, int Seeds, bool WithinNoise);

    public static Command Create()
    {
        var results = new Argument<string[]>("results") { Description = "Results CSVs in the shared schema (e.g. what `bat probe --out` appends to).", Arity = ArgumentArity.OneOrMore };
        var control = new Option<string?>("--control") { Description = "The control every model is read against (default: each model's own untrained control, by name)." };
        var pairs = new Option<string[]>("--pair") { Description = "MODEL=CONTROL: a model read against a control of its own (repeatable; wins over --control).", AllowMultipleArgumentsPerToken = true };
        var groups = new Option<string[]>("--seeds-of")
        {
            Description = "NAME=RUN,RUN,...: read those runs (one recipe pre-trained with different seeds) as one model NAME; run i, averaged over its probe seeds, is seed i. Read NAME against a control grouped the same way (run i against the control of pre-training seed i). Repeatable.",
            AllowMultipleArgumentsPerToken = true,
        };
        var models = new Option<string[]>("--model") { Description = "Models to read (default: every model that has a control in the results).", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string?>("--out") { Description = "CSV to write the margins to (one row per task, model, probe and metric)." };
        var command = new Command("margins", "Margins over the untrained control of results gathered by hand, with the suite's noise band: two standard errors of a proportion on the test clips and, with several seeds a side, of the difference of their means.")
        {
            results, control, pairs, groups, models, output,
        };
        command.SetGuardedAction(parse =>
        {
            string? csv = parse.GetValue(output);
            if (csv is not null) Preflight.EnsureWritableFile(csv);
            var paths = parse.GetValue(results)!;
            var rows = paths.SelectMany(ResultsTable.Read).ToList();
            var grouped = new HashSet<string>();
            foreach (var spec in parse.GetValue(groups) ?? [])
            {
                var (name, runs) = Split(spec, "--seeds-of", "NAME=RUN,RUN,...");
                var members = runs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                foreach (var run in members)
                    if (!rows.Any(r => r.Model == run)) throw new BatException("--seeds-of", $"{name}: no rows of model '{run}' in {string.Join(", ", paths)}");
                if (rows.Any(r => r.Model == name)) throw new BatException("--seeds-of", $"{name}: already a model in the results; choose another name");
                rows.AddRange(ControlMargins.AsPretrainingSeeds(rows, name, members).ToList());
                grouped.Add(name);
            }
            var controlOf = ControlOf(parse.GetValue(control), parse.GetValue(pairs) ?? []);
            var chosen = parse.GetValue(models) is { Length: > 0 } named ? named.ToHashSet() : null;
            foreach (var model in chosen ?? [])
                if (!rows.Any(r => r.Model == model)) throw new BatException("--model", $"no rows of model '{model}' in {string.Join(", ", paths)}");
            foreach (var model in rows.Select(r => r.Model).Distinct())
                if (controlOf(model) is { } c && c != model && grouped.Contains(model) != grouped.Contains(c) && (chosen?.Contains(model) ?? true)
                    && rows.Any(r => r.Model == c))
                    throw new BatException("--seeds-of", $"{model} and its control {c}: read both as pre-training seeds (--seeds-of) or neither, so their seeds mean the same");

            bool Chosen(ControlMargin m) => chosen?.Contains(m.Model) ?? true;
            var main = ControlMargins.From(rows, controlOf).Where(Chosen).ToList();
            var macroF1 = ControlMargins.MacroF1(rows, controlOf).Where(Chosen).ToList();
            if (main.Count == 0) throw new BatException(string.Join(", ", paths), "no model has a control with the same probe on the same task; name one with --control or --pair");
            foreach (var line in Format(main.Concat(macroF1), controlOf)) Console.WriteLine(line);
            if (csv is not null)
            {
                Csv.Write(csv, main.Concat(macroF1).Select(m => new MarginRow(m.Dataset, m.Model, controlOf(m.Model)!, m.Probe, m.Metric, m.Score, m.Control,
                    m.Margin, m.Noise, m.Seeds, m.WithinNoise)));
                Console.WriteLine($"wrote {csv}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>Who each model is read against: its --pair, else --control, else its own untrained control by name.</summary>
    static Func<string, string?> ControlOf(string? control, IEnumerable<string> pairSpecs)
    {
        var pairs = new Dictionary<string, string>();
        foreach (var spec in pairSpecs)
        {
            var (model, c) = Split(spec, "--pair", "MODEL=CONTROL");
            pairs[model] = c;
        }
        var controls = pairs.Values.Append(control).OfType<string>().ToHashSet();
        return model => pairs.TryGetValue(model, out var c) ? c
            : controls.Contains(model) ? null   // a control is not read against another
            : control ?? ControlMargins.OwnControl(model);
    }

    static (string Left, string Right) Split(string spec, string option, string form)
    {
        int at = spec.IndexOf('=');
        if (at <= 0 || at == spec.Length - 1) throw new BatException(option, $"'{spec}' is not {form}");
        return (spec[..at].Trim(), spec[(at + 1)..].Trim());
    }

    /// <summary>One block per task and metric: each model's score, its control's and the margin in words.</summary>
    public static IEnumerable<string> Format(IEnumerable<ControlMargin> margins, Func<string, string?> controlOf)
    {
        string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
        foreach (var block in margins.GroupBy(m => (m.Dataset, m.Metric)))
        {
            yield return $"== {block.Key.Dataset} ({block.Key.Metric}, %)";
            yield return $"{"model",-28} {"probe",-9} {"score",7} {"control",7}  margin";
            foreach (var m in block)
                yield return $"{m.Model,-28} {m.Probe,-9} {F(m.Score),7} {F(m.Control),7}  {m.Verdict} over {controlOf(m.Model)}";
        }
    }
}
