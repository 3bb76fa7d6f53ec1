using System.CommandLine;
using Bat.Pretraining;

namespace Bat.Cli.Commands;

/// <summary>`bat import`: the official BAT or EAT encoder weights as a run folder every probe and notebook loads.</summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "Official weights: BAT model.safetensors or a torch.save file (BAT_base.pt, an EAT checkpoint).", Required = true };
        var output = new Option<string>("--out") { Description = "Run folder to write (config.json, checkpoints/step-000000.pt).", Required = true };
        var melBins = new Option<int>("--mel-bins") { Description = "Mel bins of the model's input (128 in both papers).", DefaultValueFactory = _ => 128 };
        var frames = new Option<int>("--frames") { Description = "Frames of a clip (1024 = 10.24 s in both papers).", DefaultValueFactory = _ => 1024 };
        var heads = new Option<int?>("--heads") { Description = "Attention heads (default: width / 64, 12 for ViT-B)." };
        var prefix = new Option<string?>("--prefix") { Description = "Key prefix of the encoder when the file holds several (e.g. 'state_dict.student.encoder.')." };
        var command = new Command("import", "Convert the official BAT (models/vit.py) or EAT encoder weights into a run folder of ours.")
        {
            from, output, melBins, frames, heads, prefix,
        };
        command.SetGuardedAction(parse =>
        {
            var options = new WeightImport.Options
            {
                MelBins = parse.GetValue(melBins), Frames = parse.GetValue(frames), Heads = parse.GetValue(heads), Prefix = parse.GetValue(prefix),
            };
            var (imported, path) = WeightImport.ToRunFolder(parse.GetValue(from)!, parse.GetValue(output)!, options);
            using (imported)
            {
                var e = imported.Encoder;
                Console.WriteLine($"imported the {imported.Layout} encoder at '{imported.Prefix}': D {e.Dim}, depth {e.Depth}, heads {e.Heads}, " +
                                  $"MLP x{e.MlpRatio}, gated {e.Gated}, {e.MelBins} mel x {e.Frames} frames, position table {e.MaxTimePatches} x {e.GridFreq}");
                if (imported.Skipped.Count > 0)
                    Console.WriteLine($"skipped {imported.Skipped.Count} tensors outside the encoder (e.g. {string.Join(", ", imported.Skipped.Take(3))})");
                Console.WriteLine($"wrote {path}");
            }
            return 0;
        });
        return command;
    }
}
