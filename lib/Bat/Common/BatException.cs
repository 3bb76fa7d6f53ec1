namespace Bat;

/// <summary>
/// An error the user can act on: it names the file (or other input) and what is wrong with it.
/// The CLI prints <see cref="Exception.Message"/> on one line and exits non-zero, without a stack trace.
/// </summary>
public class BatException : Exception
{
    public string? Source_ { get; }

    public BatException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>"{file}: {problem}" — the form every input error takes.</summary>
    public BatException(string file, string problem, Exception? inner = null) : base($"{file}: {problem}", inner)
        => Source_ = file;
}
