using System.Globalization;
using System.Text.Json;
using Bat.Metrics;

namespace Bat.Data.Builders;

/// <summary>
/// HEAR 2021 task folder: task_metadata.json, labelvocabulary.csv (idx,label), one &lt;split&gt;.json per split
/// (scene format {"file.wav": ["label", ...]}), audio under &lt;sample_rate&gt;/&lt;split&gt;/. Fold tasks
/// (fold00.json ...) keep the fold number. An event task (embedding_type "event", e.g. dcase2016_task2-hear2021)
/// has the event format {"file.wav": [{"label": "...", "start": ms, "end": ms}, ...]}: it becomes an event-labelled
/// manifest (rows list the classes present) plus hear-&lt;name&gt;-events.csv with each event's onset and offset
/// in seconds (start / 1000, end / 1000, as the official load_dcase2016_task2_json_to_df and eval_test_set_dcase read them).
/// </summary>
public static class HearBuilder
{
    public sealed record Result(string Manifest, int Clips, int SampleRate);

    public static Result Build(string taskDir, string? outDir = null, int? sampleRate = null)
    {
        taskDir = Path.GetFullPath(taskDir);
        outDir = Path.GetFullPath(outDir ?? taskDir);
        var metaPath = Path.Combine(taskDir, "task_metadata.json");
        if (!File.Exists(metaPath)) throw new BatException(metaPath, "task metadata not found (is this a HEAR task folder?)");
        JsonElement meta;
        var metaText = StrictUtf8.ReadAllText(metaPath);
        meta = Json.Guard(metaPath, () => JsonDocument.Parse(metaText).RootElement);
        if (meta.ValueKind != JsonValueKind.Object) throw new BatException(metaPath, "expected a JSON object");
        string name = Str(meta, "task_name") ?? Path.GetFileName(taskDir);
        string embedding = Str(meta, "embedding_type") ?? "scene";
        if (embedding is not ("scene" or "event"))
            throw new BatException(metaPath, $"embedding_type '{embedding}' is not scene or event");
        bool eventTask = embedding == "event";
        var kind = (Str(meta, "prediction_type") ?? "multiclass") switch
        {
            "multiclass" => TaskKind.Multiclass,
            "multilabel" => TaskKind.Multilabel,
            var other => throw new BatException(metaPath, $"prediction_type '{other}' is not multiclass or multilabel"),
        };
        if (eventTask) kind = TaskKind.Multilabel;   // events of several classes may overlap: the rows list the classes present
        string metric = meta.TryGetProperty("evaluation", out var ev) && ev.ValueKind == JsonValueKind.Array && ev.GetArrayLength() > 0 && ev[0].ValueKind == JsonValueKind.String
            ? ev[0].GetString() switch { "top1_acc" => "accuracy", var m => m ?? "accuracy" }
            : kind == TaskKind.Multiclass ? "accuracy" : "mAP";
        double seconds = meta.TryGetProperty("sample_duration", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetDouble() : 10;
        if (!(seconds > 0) || seconds > 3600) throw new BatException(metaPath, $"sample_duration {seconds} is not a clip length in seconds");

        var vocabPath = Path.Combine(taskDir, "labelvocabulary.csv");
        var vocab = new List<(int Idx, string Label)>();
        BuilderUtil.ReadCsv(vocabPath, ["idx", "label"], (csv, line) =>
            vocab.Add((BuilderUtil.ParseInt(vocabPath, line, "idx", csv.GetString("idx")), csv.GetString("label") ?? "")));
        var classes = vocab.OrderBy(v => v.Idx).Select(v => v.Label).ToList();

        var rates = Directory.GetDirectories(taskDir).Select(Path.GetFileName)
            .Select(n => int.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) ? r : 0).Where(r => r > 0).ToList();
        if (rates.Count == 0) throw new BatException(taskDir, "no <sample_rate>/ audio folder found");
        int rate = sampleRate ?? (rates.Contains(16000) ? 16000 : rates.Max());
        if (!rates.Contains(rate)) throw new BatException(taskDir, $"no {rate}/ audio folder (have {string.Join(", ", rates.Order())})");

        var entries = new List<ManifestEntry>();
        var events = new List<(string Path, SoundEvent Event)>();
        var splitFiles = Directory.GetFiles(taskDir, "*.json").Where(f => Path.GetFileName(f) != "task_metadata.json")
            .OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (splitFiles.Count == 0) throw new BatException(taskDir, "no <split>.json files");
        foreach (var splitFile in splitFiles)
        {
            var split = Path.GetFileNameWithoutExtension(splitFile);
            int fold = split.StartsWith("fold", StringComparison.Ordinal) && int.TryParse(split[4..], out var f) ? f + 1 : 0;
            JsonElement labels;
            var splitText = StrictUtf8.ReadAllText(splitFile, maxBytes: 256 << 20);
            labels = Json.Guard(splitFile, () => JsonDocument.Parse(splitText).RootElement);
            if (labels.ValueKind != JsonValueKind.Object)
                throw new BatException(splitFile, eventTask ? "expected an object {\"file.wav\": [{\"label\", \"start\", \"end\"}]}" : "expected an object {\"file.wav\": [labels]}");
            foreach (var clip in labels.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                var clipEvents = eventTask ? ReadEvents(splitFile, clip) : null;
                if (!eventTask && (clip.Value.ValueKind != JsonValueKind.Array || clip.Value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String)))
                    throw new BatException(splitFile, $"'{clip.Name}': expected a list of label strings (scene format)");
                var audio = Path.GetFullPath(Path.Combine(taskDir, rate.ToString(CultureInfo.InvariantCulture), split, clip.Name));
                if (!Manifest.IsInside(audio, taskDir)) throw new BatException(splitFile, $"'{clip.Name}' leads outside the task folder");
                if (!File.Exists(audio)) throw new BatException(splitFile, $"'{clip.Name}': audio file not found: {audio}");
                var clipLabels = clipEvents is null ? clip.Value.EnumerateArray().Select(v => v.GetString()!).ToList()
                    : classes.Where(c => clipEvents.Any(e => e.Class == c)).ToList();   // class-list order
                foreach (var l in clipEvents?.Select(e => e.Class) ?? clipLabels)
                    if (!classes.Contains(l)) throw new BatException(splitFile, $"'{clip.Name}': unknown label '{l}' (not in labelvocabulary.csv)");
                var entry = new ManifestEntry(BuilderUtil.RelativeTo(outDir, audio), clipLabels, split, fold);
                entries.Add(entry);
                if (clipEvents is not null) events.AddRange(clipEvents.Select(e => (entry.Path, e)));
            }
        }
        if (name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name is "." or "..")
            throw new BatException(metaPath, $"task_name '{name}' cannot be part of a file name");
        var path = Path.Combine(outDir, $"hear-{name}.csv");
        var roots = BuilderUtil.AudioRoots(outDir, [Path.Combine(taskDir, "x")]);
        var eventsFile = eventTask ? $"hear-{name}-events.csv" : null;
        using var batch = new AtomicBatch();
        Manifest.Save(batch, path, new TaskInfo($"hear-{name}", kind, classes, rate, seconds, metric, roots, Events: eventsFile), entries);
        if (eventsFile is not null) SoundEvents.Save(batch, Path.Combine(outDir, eventsFile), events);
        batch.Commit();
        return new Result(path, entries.Count, rate);
    }

    /// <summary>One clip's events in HEAR's event format: [{"label": "...", "start": ms, "end": ms}, ...], in seconds.</summary>
    static List<SoundEvent> ReadEvents(string splitFile, JsonProperty clip)
    {
        if (clip.Value.ValueKind != JsonValueKind.Array)
            throw new BatException(splitFile, $"'{clip.Name}': expected a list of events {{\"label\", \"start\", \"end\"}} (event format)");
        var events = new List<SoundEvent>();
        int i = 0;
        foreach (var e in clip.Value.EnumerateArray())
        {
            i++;
            if (e.ValueKind != JsonValueKind.Object || Str(e, "label") is not { } label
                || !e.TryGetProperty("start", out var start) || start.ValueKind != JsonValueKind.Number
                || !e.TryGetProperty("end", out var end) || end.ValueKind != JsonValueKind.Number)
                throw new BatException(splitFile, $"'{clip.Name}': event {i} is not {{\"label\": string, \"start\": ms, \"end\": ms}}");
            double startMs = start.GetDouble(), endMs = end.GetDouble();
            if (!(startMs >= 0) || !(endMs > startMs) || !double.IsFinite(endMs))
                throw new BatException(splitFile, $"'{clip.Name}': event {i} ({label}) has start {startMs} ms and end {endMs} ms: need 0 <= start < end");
            events.Add(new SoundEvent(label, startMs / 1000, endMs / 1000));
        }
        return events;
    }

    static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
