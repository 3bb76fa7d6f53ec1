using System.Text.Json.Nodes;
using static Bat.Tests.Runner.RunnerTestKit;

namespace Bat.Tests.Runner;

/// <summary>The validator the runner tests rely on must itself reject what nbformat rejects.</summary>
public class SchemaValidatorTests
{
    static readonly JsonSchemaValidator Schema = JsonSchemaValidator.Load(Fixture("nbformat.v4.5.schema.json"));

    static JsonObject Valid() => (JsonObject)JsonNode.Parse(File.ReadAllText(Fixture("failing.ipynb")))!;

    [Fact]
    public void Nbformat_written_fixture_is_valid()
    {
        Assert.Empty(Schema.Validate(Valid()));
    }

    [Theory]
    [InlineData("missing id")]
    [InlineData("bad id")]
    [InlineData("bad output type")]
    [InlineData("stream without name")]
    [InlineData("unknown top-level key")]
    [InlineData("execution count negative")]
    public void Broken_notebooks_are_rejected(string breakage)
    {
        var nb = Valid();
        var cell = (JsonObject)nb["cells"]![0]!;
        switch (breakage)
        {
            case "missing id": cell.Remove("id"); break;
            case "bad id": cell["id"] = "has space"; break;
            case "bad output type": cell["outputs"] = new JsonArray(new JsonObject { ["output_type"] = "picture" }); break;
            case "stream without name": cell["outputs"] = new JsonArray(new JsonObject { ["output_type"] = "stream", ["text"] = "x" }); break;
            case "unknown top-level key": nb["extra"] = 1; break;
            case "execution count negative": cell["execution_count"] = -1; break;
        }
        Assert.NotEmpty(Schema.Validate(nb));
    }
}
