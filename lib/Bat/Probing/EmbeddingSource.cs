using Bat.Data;
using static TorchSharp.torch;
using Bat.Metrics;

namespace Bat.Probing;

/// <summary>Rows of frozen layer embeddings a probe trains on: from an on-disk cache or from memory.</summary>
public interface IEmbeddingSource
{
    int Count { get; }
    int Layers { get; }
    int Patches { get; }
    int Dim { get; }

    /// <summary>The embeddings of the given rows as float32 on <paramref name="device"/>: Cls (B, L, D) and
    /// Patches (B, L, N, D) (an empty (B, L, 0, D) tensor when <paramref name="withPatches"/> is false).</summary>
    LayerEmbeddings Gather(IReadOnlyList<int> rows, bool withPatches, Device device);
}

/// <summary>Layer embeddings held in tensors: Cls (N, L, D), Patches (N, L, P, D).</summary>
public sealed class TensorEmbeddingSource : IEmbeddingSource
{
    readonly Tensor cls, patches;

    public TensorEmbeddingSource(Tensor cls, Tensor patches)
    {
        if (cls.dim() != 3 || patches.dim() != 4 || cls.shape[0] != patches.shape[0] || cls.shape[1] != patches.shape[1] || cls.shape[2] != patches.shape[3])
            throw new ArgumentException($"expected Cls (N, L, D) and Patches (N, L, P, D), got [{string.Join(",", cls.shape)}] and [{string.Join(",", patches.shape)}]");
        this.cls = cls;
        this.patches = patches;
    }

    public int Count => (int)cls.shape[0];
    public int Layers => (int)cls.shape[1];
    public int Patches => (int)patches.shape[2];
    public int Dim => (int)cls.shape[2];

    public LayerEmbeddings Gather(IReadOnlyList<int> rows, bool withPatches, Device device)
    {
        using var index = tensor(rows.Select(r => (long)r).ToArray());
        var c = cls.index_select(0, index).to(ScalarType.Float32, device);
        var p = withPatches
            ? patches.index_select(0, index).to(ScalarType.Float32, device)
            : zeros(new long[] { rows.Count, Layers, 0, Dim }, device: device);
        return new LayerEmbeddings(c, p);
    }
}

/// <summary>
/// One split for probing: its layer embeddings and its labels, (N, C) float (multi-hot or one-hot), or for a sound
/// event detection task the frame targets (N, T, C) and each clip's annotated <paramref name="Events"/>.
/// </summary>
public sealed record EmbeddingSplit(IEmbeddingSource Embeddings, Tensor Labels, IReadOnlyList<IReadOnlyList<SoundEvent>>? Events = null)
{
    public int Count => Embeddings.Count;
}

/// <summary>What a sound event detection task adds: its class names, the ms between time patches, and the
/// encoder's frequency patches (the frame-wise probe pools over them).</summary>
public sealed record SoundEventTask(IReadOnlyList<string> ClassNames, int PatchMs, int FreqPatches);

/// <summary>
/// The splits of a probing task and whether it is multi-label. Without a validation split (null) the probe trains
/// on all of train and is scored on test at its last step, as the official ESC-50 folds and AS-20k are. With
/// <see cref="Events"/> it is a sound event detection task: frame targets, the official binary cross-entropy and
/// the official event-based scoring (<see cref="SoundEventScores"/>).
/// </summary>
public sealed record ProbeTask(string Name, bool MultiLabel, EmbeddingSplit Train, EmbeddingSplit? Validation, EmbeddingSplit Test,
    SoundEventTask? Events = null)
{
    public int Classes => (int)Train.Labels.shape[^1];
    public int Layers => Train.Embeddings.Layers;
    public int Dim => Train.Embeddings.Dim;

    /// <summary>The metric used to pick the best-validation checkpoint (the task's main metric; frame micro mAP for
    /// event detection, the official metric_to_track).</summary>
    public string SelectionMetric => Events is null ? TaskMetric.MainFor(MultiLabel ? TaskKind.Multilabel : TaskKind.Multiclass) : SoundEventScores.SelectionMetric;

    /// <summary>The training loss of a batch's logits against its targets.</summary>
    public Tensor Loss(Tensor logits, Tensor targets) =>
        Events is null ? ProbeLosses.For(MultiLabel, logits, targets) : ProbeLosses.BinaryCrossEntropy(logits, targets);

    /// <summary>The metrics of one head's logits for every row of <paramref name="split"/>.</summary>
    public Dictionary<string, double> Score(Tensor logits, EmbeddingSplit split) =>
        Events is { } sed ? SoundEventScores.Compute(logits, split.Labels, split.Events, sed.ClassNames, sed.PatchMs)
        : ProbeScores.Compute(MultiLabel, logits, split.Labels);
}
