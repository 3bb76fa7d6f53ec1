using System.CommandLine;

namespace Bat.Cli;

/// <summary>Helpers shared by the commands: uniform error reporting.</summary>
public static class Cli
{
    /// <summary>Errors that are the user's input, not a bug: printed on one line without a stack trace.</summary>
    public static bool IsUserError(Exception e) =>
        e is BatException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException
            or IOException or ArgumentException or FormatException or InvalidDataException
        || (e is AggregateException a && a.InnerExceptions.All(IsUserError))
        || (e is System.Reflection.TargetInvocationException { InnerException: { } inner } && IsUserError(inner));

    public static string OneLine(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
        if (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
        return e.Message.ReplaceLineEndings(" ");
    }

    /// <summary>`--verbose` (any command): print the stack trace of an error as well.</summary>
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "On an error, print the full exception with its stack trace (for bug reports).",
        Recursive = true,
    };

    /// <summary>Exit code of an error that is not the input's fault (a bug): EX_SOFTWARE.</summary>
    public const int InternalErrorExit = 70;

    /// <summary>
    /// Prints an error on one line and gives the exit code: 1 for bad input, 70 for anything else (a bug). The
    /// stack trace is printed only with --verbose.
    /// </summary>
    public static int Report(Exception e, TextWriter error, bool verbose)
    {
        bool user = IsUserError(e);
        error.WriteLine(user
            ? $"error: {OneLine(e)}"
            : $"error: internal error ({e.GetType().Name}: {OneLine(e)}); rerun with --verbose for the stack trace and report it");
        if (verbose) error.WriteLine(e.ToString());
        return user ? 1 : InternalErrorExit;
    }

    /// <summary>Wraps a command body so an error prints one line (see <see cref="Report"/>) instead of a stack trace.</summary>
    public static void SetGuardedAction(this Command command, Func<ParseResult, Task<int>> action) =>
        command.SetAction(async (parse, _) =>
        {
            try { return await action(parse); }
            catch (Exception e)
            {
                // The invocation's writer is Console.Error unless a caller (a test) captures it.
                return Report(e, parse.InvocationConfiguration.Error, parse.GetValue(Verbose));
            }
        });

    public static void SetGuardedAction(this Command command, Func<ParseResult, int> action) =>
        command.SetGuardedAction(parse => Task.FromResult(action(parse)));
}
