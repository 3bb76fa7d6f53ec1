using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Bat.Tests.Runner;

/// <summary>
/// A JSON Schema (draft 4) validator for the keywords nbformat's schema uses: type, properties, required,
/// additionalProperties, patternProperties, items, enum, oneOf/anyOf/allOf/not, pattern, min/maxLength,
/// minimum/maximum, minItems, uniqueItems and local $ref. Returns every violation with its JSON path.
/// </summary>
public sealed class JsonSchemaValidator(JsonObject root)
{
    static readonly HashSet<string> Known =
    [
        "$schema", "$ref", "id", "title", "description", "default", "definitions", "format",
        "type", "properties", "required", "additionalProperties", "patternProperties", "items", "enum",
        "oneOf", "anyOf", "allOf", "not", "pattern", "minLength", "maxLength", "minimum", "maximum",
        "minItems", "maxItems", "uniqueItems",
    ];

    public static JsonSchemaValidator Load(string path) => new((JsonObject)JsonNode.Parse(File.ReadAllText(path))!);

    public List<string> Validate(JsonNode? instance)
    {
        var errors = new List<string>();
        Check(root, instance, "$", errors);
        return errors;
    }

    void Check(JsonObject schema, JsonNode? node, string path, List<string> errors)
    {
        foreach (var (key, _) in schema)
            if (!Known.Contains(key)) throw new NotSupportedException($"schema keyword '{key}' is not implemented");

        if (schema["$ref"] is { } reference)
        {
            Check(Resolve(reference.GetValue<string>()), node, path, errors);
            return;
        }
        if (schema["type"] is { } type)
        {
            var allowed = type is JsonArray a ? a.Select(t => t!.GetValue<string>()).ToList() : [type.GetValue<string>()];
            if (!allowed.Any(t => HasType(node, t)))
            {
                errors.Add($"{path}: expected {string.Join("|", allowed)}, got {Kind(node)}");
                return;
            }
        }
        if (schema["enum"] is JsonArray values && !values.Any(v => JsonNode.DeepEquals(v, node)))
            errors.Add($"{path}: {node?.ToJsonString()} is not one of {values.ToJsonString()}");

        if (schema["oneOf"] is JsonArray oneOf)
        {
            int matches = oneOf.Count(s => Passes((JsonObject)s!, node, path));
            if (matches != 1) errors.Add($"{path}: matches {matches} of the oneOf schemas (need exactly 1)");
        }
        if (schema["anyOf"] is JsonArray anyOf && !anyOf.Any(s => Passes((JsonObject)s!, node, path)))
            errors.Add($"{path}: matches none of the anyOf schemas");
        if (schema["allOf"] is JsonArray allOf)
            foreach (var s in allOf) Check((JsonObject)s!, node, path, errors);
        if (schema["not"] is JsonObject not && Passes(not, node, path))
            errors.Add($"{path}: matches a schema it must not match");

        switch (node)
        {
            case JsonObject obj:
                CheckObject(schema, obj, path, errors);
                break;
            case JsonArray array:
                if (schema["items"] is JsonObject items)
                    for (int i = 0; i < array.Count; i++) Check(items, array[i], $"{path}[{i}]", errors);
                if (schema["minItems"] is { } minItems && array.Count < minItems.GetValue<int>())
                    errors.Add($"{path}: fewer than {minItems} items");
                if (schema["maxItems"] is { } maxItems && array.Count > maxItems.GetValue<int>())
                    errors.Add($"{path}: more than {maxItems} items");
                if (schema["uniqueItems"]?.GetValue<bool>() == true)
                    for (int i = 0; i < array.Count; i++)
                        for (int j = i + 1; j < array.Count; j++)
                            if (JsonNode.DeepEquals(array[i], array[j])) errors.Add($"{path}: items {i} and {j} are equal");
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                var s = value.GetValue<string>();
                if (schema["pattern"] is { } pattern && !Regex.IsMatch(s, pattern.GetValue<string>()))
                    errors.Add($"{path}: '{s}' does not match {pattern}");
                if (schema["minLength"] is { } minLength && s.Length < minLength.GetValue<int>())
                    errors.Add($"{path}: shorter than {minLength}");
                if (schema["maxLength"] is { } maxLength && s.Length > maxLength.GetValue<int>())
                    errors.Add($"{path}: longer than {maxLength}");
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.Number:
                var x = Number(value);
                if (schema["minimum"] is { } min && x < Number(min)) errors.Add($"{path}: {x} < minimum {min}");
                if (schema["maximum"] is { } max && x > Number(max)) errors.Add($"{path}: {x} > maximum {max}");
                break;
        }
    }

    void CheckObject(JsonObject schema, JsonObject obj, string path, List<string> errors)
    {
        if (schema["required"] is JsonArray required)
            foreach (var name in required.Select(r => r!.GetValue<string>()))
                if (!obj.ContainsKey(name)) errors.Add($"{path}: missing required property '{name}'");

        var properties = schema["properties"] as JsonObject;
        var patterns = schema["patternProperties"] as JsonObject;
        foreach (var (name, value) in obj)
        {
            var childPath = $"{path}.{name}";
            bool matched = false;
            if (properties?[name] is JsonObject propertySchema)
            {
                Check(propertySchema, value, childPath, errors);
                matched = true;
            }
            foreach (var (pattern, patternSchema) in patterns ?? [])
                if (Regex.IsMatch(name, pattern))
                {
                    Check((JsonObject)patternSchema!, value, childPath, errors);
                    matched = true;
                }
            if (matched) continue;
            switch (schema["additionalProperties"])
            {
                case JsonValue v when v.GetValueKind() == JsonValueKind.False:
                    errors.Add($"{path}: property '{name}' is not allowed");
                    break;
                case JsonObject additional:
                    Check(additional, value, childPath, errors);
                    break;
            }
        }
    }

    bool Passes(JsonObject schema, JsonNode? node, string path)
    {
        var errors = new List<string>();
        Check(schema, node, path, errors);
        return errors.Count == 0;
    }

    JsonObject Resolve(string reference)
    {
        if (!reference.StartsWith("#/")) throw new NotSupportedException($"only local $ref is implemented: {reference}");
        JsonNode node = root;
        foreach (var part in reference[2..].Split('/')) node = node[part] ?? throw new InvalidOperationException($"bad $ref {reference}");
        return (JsonObject)node;
    }

    static bool HasType(JsonNode? node, string type) => type switch
    {
        "null" => node is null,
        "object" => node is JsonObject,
        "array" => node is JsonArray,
        "string" => node is JsonValue v && v.GetValueKind() == JsonValueKind.String,
        "boolean" => node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        "number" => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number,
        "integer" => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && Math.Abs(Number(v) % 1) == 0,
        _ => throw new NotSupportedException($"type '{type}'"),
    };

    static double Number(JsonNode node) => double.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);

    static string Kind(JsonNode? node) => node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant();
}
