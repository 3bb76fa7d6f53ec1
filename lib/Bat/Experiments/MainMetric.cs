using Bat.Reporting;

namespace Bat.Experiments;

/// <summary>
/// Each dataset's headline metric, as the paper reports it: accuracy for single-label tasks (they report mAP
/// too), macro mAP for multi-label ones. Averaging the two would mix unlike numbers, so every table of the suite
/// picks rows through here.
/// </summary>
public static class MainMetric
{
    /// <summary>The rows of each dataset's main metric: accuracy where the dataset reports it, else mAP.</summary>
    public static List<ResultRow> Select(IEnumerable<ResultRow> rows)
    {
        var scored = rows.Where(r => r.Metric is "map" or "accuracy").ToList();
        var accuracyTasks = scored.Where(r => r.Metric == "accuracy").Select(r => r.Dataset).ToHashSet();
        return scored.Where(r => r.Metric == (accuracyTasks.Contains(r.Dataset) ? "accuracy" : "map")).ToList();
    }
}
