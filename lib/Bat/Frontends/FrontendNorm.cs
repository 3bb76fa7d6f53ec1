using System.Reflection;
using System.Text.Json;

namespace Bat.Frontends;

/// <summary>One set of normalisation constants: the mean and std of a kaldi-kind fbank over a dataset.</summary>
public sealed record NormConstants(string Kind, string Name, int MelBins, double Mean, double Std, string Source);

/// <summary>
/// The normalisation constants of the kaldi frontends, kept as data in data-manifests/frontend-norm.json.
/// Loaded from an explicit path, else from the nearest data-manifests/frontend-norm.json above the current
/// directory (a checkout, where `bat stats --save` adds entries), else from the copy built into Bat.Core.
/// </summary>
public sealed record FrontendNorm(List<NormConstants> Constants) : IValidated
{
    public void Validate()
    {
        if (Constants is null) throw new BatException(RelativePath, "no 'constants' list");
        foreach (var c in Constants)
            if (c is null || c.Kind is null || c.Name is null || c.MelBins < 1 || !double.IsFinite(c.Mean) || !(c.Std > 0) || !double.IsFinite(c.Std))
                throw new BatException(RelativePath, $"entry '{c?.Name}' ({c?.Kind}, {c?.MelBins} bins): needs a kind, a name, positive mel bins, a finite mean and a positive std");
    }

    public const string RelativePath = "data-manifests/frontend-norm.json";
    const string Resource = "Bat.frontend-norm.json";

    public static FrontendNorm Load(string? path = null)
    {
        path ??= FindInCheckout();
        if (path is not null) return Json.Load<FrontendNorm>(path);
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(Resource)
                           ?? throw new BatException(RelativePath, "not found and not built into Bat.Core");
        return JsonSerializer.Deserialize<FrontendNorm>(stream, Json.Options) ?? throw new BatException(Resource, "empty");
    }

    /// <summary>The nearest data-manifests/frontend-norm.json in the current directory or above, or null.</summary>
    public static string? FindInCheckout()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, RelativePath);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    public NormConstants Find(string kind, string name, int melBins)
    {
        var match = Constants.FirstOrDefault(c => c.Kind == kind && c.Name == name && c.MelBins == melBins);
        if (match is not null) return match;
        var known = string.Join(", ", Constants.Where(c => c.Kind == kind).Select(c => $"{c.Name} ({c.MelBins} bins)"));
        throw new BatException(RelativePath,
            $"no '{kind}' normalisation constants named '{name}' for {melBins} mel bins (known: {known}); " +
            $"compute them with `bat stats --manifest M --frontend {kind} --mel-bins {melBins} --save {name}`");
    }

    /// <summary>A copy with <paramref name="c"/> added, replacing any entry with the same kind, name and bins.</summary>
    public FrontendNorm With(NormConstants c) =>
        new([.. Constants.Where(x => !(x.Kind == c.Kind && x.Name == c.Name && x.MelBins == c.MelBins)), c]);

    public void Save(string path) => Json.Save(path, this);
}
