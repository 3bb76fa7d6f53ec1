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

    /// <summary>Wraps a command body so a user error prints one line and returns exit code 1.</summary>
    public static void SetGuardedAction(this Command command, Func<ParseResult, Task<int>> action) =>
        command.SetAction(async (parse, _) =>
        {
            try { return await action(parse); }
            catch (Exception e) when (IsUserError(e))
            {
                // The invocation's writer is Console.Error unless a caller (a test) captures it.
                parse.InvocationConfiguration.Error.WriteLine($"error: {OneLine(e)}");
                return 1;
            }
        });

    public static void SetGuardedAction(this Command command, Func<ParseResult, int> action) =>
        command.SetGuardedAction(parse => Task.FromResult(action(parse)));
}
