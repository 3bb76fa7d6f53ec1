using System.Diagnostics;

namespace Bat;

/// <summary>
/// A progress line for long work, written to stderr so stdout stays clean for data (CSV, tables).
/// Redraws in place on a terminal; on a pipe or in CI prints a line at most every few seconds.
/// </summary>
public sealed class ConsoleProgress : IDisposable
{
    readonly string _label;
    readonly long _total;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly bool _interactive = !Console.IsErrorRedirected;
    readonly TimeSpan _interval;
    TimeSpan? _lastDraw;  // null until the first draw (MinValue overflowed in the subtraction below)
    long _done;
    string _status = "";

    public ConsoleProgress(string label, long total)
    {
        _label = label;
        _total = Math.Max(total, 1);
        _interval = _interactive ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(5);
    }

    public static bool Quiet { get; set; } = Environment.GetEnvironmentVariable("BAT_QUIET") == "1";

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Report(long done, string status = "")
    {
        _done = done;
        _status = status;
        if (_lastDraw is null || _clock.Elapsed - _lastDraw.Value >= _interval || done >= _total) Draw();
    }

    void Draw()
    {
        if (Quiet) return;
        _lastDraw = _clock.Elapsed;
        double fraction = Math.Clamp((double)_done / _total, 0, 1);
        var eta = fraction > 0 ? TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds * (1 - fraction) / fraction) : TimeSpan.Zero;
        const int width = 24;
        int filled = (int)(fraction * width);
        var line = $"{_label} [{new string('#', filled)}{new string('.', width - filled)}] {_done}/{_total} " +
                   $"{_clock.Elapsed:hh\\:mm\\:ss} eta {eta:hh\\:mm\\:ss} {_status}";
        if (_interactive) Console.Error.Write("\r" + line.PadRight(Console.WindowWidth > 0 ? Math.Min(Console.WindowWidth - 1, 160) : 0));
        else Console.Error.WriteLine(line);
    }

    public void Dispose()
    {
        if (!Quiet && _done < _total) Draw();
        if (!Quiet && _interactive) Console.Error.WriteLine();
    }
}
