using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bat;

/// <summary>A record that can say what is wrong with it after it was read from a file (a BatException).</summary>
public interface IValidated
{
    void Validate();
}

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

    /// <summary>
    /// Reads a JSON file (strict UTF-8, at most 16 MB) into <typeparamref name="T"/> and validates it when it is
    /// <see cref="IValidated"/>. Anything wrong, from bad bytes to a value out of range, is one BatException naming the file.
    /// </summary>
    public static T Load<T>(string path)
    {
        var text = StrictUtf8.ReadAllText(path);
        return Guard(path, () =>
        {
            var value = JsonSerializer.Deserialize<T>(text, Options) ?? throw new BatException(path, "empty JSON document (null)");
            if (value is IValidated validated) validated.Validate();
            return value;
        });
    }

    /// <summary>
    /// Runs <paramref name="read"/> (deserialising and checking what came from <paramref name="path"/>) and turns
    /// whatever a malformed document makes it throw into one BatException naming the file and what is wrong.
    /// </summary>
    public static T Guard<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (BatException e) when (e.Source_ == path) { throw; }
        catch (BatException e) { throw new BatException(path, e.Message, e); }
        catch (JsonException e) { throw new BatException(path, $"invalid JSON: {e.Message}", e); }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            throw new BatException(path, $"invalid content: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        catch (NullReferenceException e)
        {
            throw new BatException(path, "a required field is missing or null", e);
        }
    }
}
