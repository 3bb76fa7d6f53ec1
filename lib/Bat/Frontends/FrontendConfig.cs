namespace Bat.Frontends;

/// <summary>
/// Which frontend turns 16 kHz waveforms into (B, 1, T, MelBins) features, and its settings.
/// Kind: "bat" (power mel in dB, per-example min-max, paper section 2), "kaldi" (Kaldi fbank as in
/// Audio-MAE/EAT) or "kaldi-beats" (BEATs' fbank variant). TargetFrames pads (zeros) or crops time; null keeps
/// every frame. NormMean/NormStd are the dataset constants of the kaldi kinds: (x - mean) / (2 * std).
/// </summary>
public sealed record FrontendConfig(
    string Kind,
    int MelBins = 128,
    int? TargetFrames = null,
    double? NormMean = null,
    double? NormStd = null,
    string? NormName = null)
{
    public const string Bat = "bat", Kaldi = "kaldi", KaldiBeats = "kaldi-beats";
    public static readonly IReadOnlyList<string> Kinds = [Bat, Kaldi, KaldiBeats];
    public const int SampleRate = 16000;

    /// <summary>
    /// The config for a kind; for the kaldi kinds the normalisation constants named <paramref name="dataset"/>
    /// (default "audioset") are looked up in data-manifests/frontend-norm.json for this number of mel bins.
    /// </summary>
    public static FrontendConfig For(string kind, int melBins = 128, int? targetFrames = null, string? dataset = null,
        string? normFile = null)
    {
        Validate(kind, melBins, targetFrames);
        if (kind == Bat) return new FrontendConfig(kind, melBins, targetFrames);
        var norm = FrontendNorm.Load(normFile).Find(kind, dataset ?? "audioset", melBins);
        return new FrontendConfig(kind, melBins, targetFrames, norm.Mean, norm.Std, norm.Name);
    }

    /// <summary>The kaldi kinds without normalisation constants: for computing them (`bat stats`).</summary>
    public static FrontendConfig Unnormalised(string kind, int melBins = 128, int? targetFrames = null)
    {
        Validate(kind, melBins, targetFrames);
        return new FrontendConfig(kind, melBins, targetFrames);
    }

    /// <summary>Checks a config read from a file (kind, mel bins, target frames); throws an ArgumentException.</summary>
    public void Validate() => Validate(Kind, MelBins, TargetFrames);

    static void Validate(string kind, int melBins, int? targetFrames)
    {
        if (!Kinds.Contains(kind)) throw new ArgumentException($"unknown frontend kind '{kind}' (expected {string.Join(", ", Kinds)})");
        if (melBins is < 8 or > 256) throw new ArgumentException($"mel bins must be in 8..256, not {melBins}");
        if (targetFrames is <= 0) throw new ArgumentException($"target frames must be positive, not {targetFrames}");
    }
}
