namespace Bat.Experiments;

/// <summary>
/// Changes to the levers (the variants with a spread term, <see cref="PretrainVariant.Levers"/>) for one benchmark run,
/// e.g. the real-audio recipe of docs/method.md section 6: `bat bench learn --spread-weight 30 --centre-targets`.
/// The papers' variants and the controls are left as they are; each run records what it trained with in config.json.
/// </summary>
/// <param name="SpreadWeight">the spread weight (null: the variant's own)</param>
/// <param name="CentreTargets">subtract the batch's mean target per patch position (the teacher's targets lose what the
/// position alone predicts; docs/method.md section 6)</param>
/// <param name="ClipFrames">frames kept of each pre-training clip, drawn from in random windows of the input's length
/// (PretrainConfig.ClipFrames; null: the variant's own)</param>
/// <param name="SpreadNormalised">the spread term reads the CLS and mean token after a gain-free LayerNorm, as LP's head
/// does (PretrainConfig.SpreadNormalised; docs/method.md section 6)</param>
public sealed record LeverOverrides(double? SpreadWeight = null, bool CentreTargets = false, int? ClipFrames = null, bool SpreadNormalised = false)
{
    /// <summary>The variant with these changes if it is a lever, else unchanged.</summary>
    public PretrainVariant Apply(PretrainVariant variant)
    {
        if (variant.SpreadWeight <= 0) return variant;
        return variant with
        {
            SpreadWeight = SpreadWeight ?? variant.SpreadWeight,
            CentreTargets = variant.CentreTargets || CentreTargets,
            SpreadNormalised = variant.SpreadNormalised || SpreadNormalised,
            ClipFrames = ClipFrames ?? variant.ClipFrames,
        };
    }

    /// <summary>Refuses a spread weight that is not positive and finite and a negative clip length, naming the option.
    /// (A clip length shorter than the input is refused by the run's config, which knows the input.)</summary>
    public void Validate()
    {
        if (SpreadWeight is double w && !(w > 0 && double.IsFinite(w))) throw new BatException("--spread-weight", $"spread weight {w}: must be positive and finite");
        if (ClipFrames is int f && f < 0) throw new BatException("--clip-frames", $"{f} clip frames: must be 0 or more");
    }
}
