using Bat.Model;
using Bat.Pretraining;

namespace Bat.Tests.Pretraining;

/// <summary>The choice fields of a run's config.json are enums in code and the same words on disk as before.</summary>
public class ConfigJsonTests
{
    [Fact]
    public void A_config_json_written_with_words_loads_and_is_written_back_with_the_same_words()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("batconfig-").FullName, "config.json");
        try
        {
            // The choice fields as config.json files have always spelled them.
            File.WriteAllText(path, """{ "preset": "tiny", "variant": "bat", "targets": "eob", "utteranceWeighting": "equal", "decoder": { "kind": "vit", "dim": 128 } }""");
            var config = Json.Load<PretrainConfig>(path);
            Assert.Equal((TeacherTargetKind.Eob, UtteranceWeighting.Equal, DecoderKind.Vit), (config.Targets, config.UtteranceWeighting, config.Decoder.Kind));
            var written = Json.Serialize(config);
            Assert.Contains("\"targets\": \"eob\"", written);
            Assert.Contains("\"utteranceWeighting\": \"equal\"", written);
            Assert.Contains("\"kind\": \"vit\"", written);
            Assert.Contains("\"targets\": \"ffn\"", Json.Serialize(new PretrainConfig()));
            Assert.Contains("\"utteranceWeighting\": \"fairseq\"", Json.Serialize(new PretrainConfig()));
            Assert.Contains("\"kind\": \"cnn\"", Json.Serialize(new PretrainConfig()));

            File.WriteAllText(path, """{ "targets": "mlp" }""");
            var e = Assert.Throws<BatException>(() => Json.Load<PretrainConfig>(path));
            Assert.Contains(path, e.Message);
        }
        finally { Directory.Delete(Path.GetDirectoryName(path)!, recursive: true); }
    }
}
