using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bat.Probing;

/// <summary>
/// Remembers frozen-probe runs beside the embedding caches they read: {cacheDir}/probe-runs/{key}.json holds the
/// <see cref="ProbeRunResult"/> of one probe, K, schedule and seed on one task. The key is the SHA-256 of everything
/// the result depends on: those choices, the task (fold) name, each split's cache header (checkpoint SHA-256,
/// frontend, manifest SHA-256, clips), the device, and the build of this library (its module version id, so a
/// changed probe never answers with an old result). A probe run is deterministic given all of that (seeded, CPU),
/// so reading it back is the same as training it again. A memo that cannot be read is trained again and replaced.
/// </summary>
public static class ProbeRunMemo
{
    public const string Folder = "probe-runs";

    // Test metrics can be NaN (an average precision without a positive clip): keep them as "NaN" in the file.
    static readonly JsonSerializerOptions Options = new(Json.Options) { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The memo file of a run (it may not exist yet).</summary>
    public static string PathFor(ProbeSession session, ProbeTask task, string probe, int prototypes, ProbeTrainingConfig config)
    {
        var key = new
        {
            Version = 1,
            Build = typeof(ProbeRunMemo).Assembly.ManifestModule.ModuleVersionId,
            Device = Devices.Default.ToString(),
            Task = task.Name,
            Probe = probe,
            Prototypes = prototypes,
            Config = config,
            Caches = session.Manifest.Splits.Select(split => ProbeExperiment.ExpectedHeader(session.Checkpoint, session.Input, session.Manifest, split)),
        };
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(key, Options))));
        return Path.Combine(session.CacheDir, Folder, $"{probe}-k{prototypes}-{hash[..16]}.json");
    }

    /// <summary>The remembered result of the run, or <paramref name="train"/>'s, saved (atomically) for next time.</summary>
    public static ProbeRunResult GetOrRun(ProbeSession session, ProbeTask task, string probe, int prototypes, ProbeTrainingConfig config, Func<ProbeRunResult> train)
    {
        var path = PathFor(session, task, probe, prototypes, config);
        if (File.Exists(path))
        {
            try
            {
                var known = JsonSerializer.Deserialize<ProbeRunResult>(File.ReadAllText(path), Options);
                if (known is { Heads.Count: > 0 } && known.Probe == probe)
                {
                    Console.Error.WriteLine($"probe {probe} (K {prototypes}) on {task.Name}: reused {path}");
                    return known;
                }
            }
            catch (JsonException e) { Console.Error.WriteLine($"{path}: unreadable ({e.Message}); training the probe again"); }
        }
        var result = train();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(result, Options) + "\n");
        return result;
    }
}
