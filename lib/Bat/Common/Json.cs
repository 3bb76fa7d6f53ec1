using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bat;

/// <summary>One JSON style for configs and sidecars, so a run folder reads the same everywhere.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>An enum value as config files spell it (TeacherTargetKind.Eob -> "eob").</summary>
    public static string Name<T>(T value) where T : struct, Enum => JsonSerializer.Serialize(value, Options).Trim('"');

    public static void Save<T>(string path, T value) => AtomicFile.WriteAllText(path, Serialize(value) + "\n");

    public static T Load<T>(string path)
    {
        if (!File.Exists(path)) throw new BatException(path, "file not found");
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options)
                   ?? throw new BatException(path, "empty JSON document");
        }
        catch (JsonException e)
        {
            throw new BatException(path, $"invalid JSON: {e.Message}", e);
        }
    }
}
