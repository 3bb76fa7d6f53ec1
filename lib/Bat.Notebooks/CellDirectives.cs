using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Bat.Notebooks;

/// <summary>
/// The lines of a Polyglot cell that are not C#: <c>#r "path"</c>, <c>#r "nuget: Name, Version"</c>, <c>#i</c>
/// package sources and <c>#!magic</c> commands. They are taken out (replaced by blank lines so compiler line
/// numbers still match the cell) before Roslyn compiles the rest.
/// </summary>
internal static partial class CellDirectives
{
    /// <summary>NuGet packages whose assemblies the runner is built with, so `#r "nuget: ..."` needs no restore.</summary>
    public static readonly IReadOnlySet<string> CarriedPackages = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "TorchSharp-cpu", "TorchSharp", "TorchSharp-cuda-linux", "libtorch-cpu", "libtorch-cpu-linux-x64",
        "Plotly.NET", "Plotly.NET.CSharp", "Microsoft.Data.Analysis", "CsvHelper", "FSharp.Core",
    };

    /// <summary>The cell with directives removed, the assembly paths it references that the runner does not carry,
    /// the carried assemblies it names and whether #!time asked for the wall time.</summary>
    public sealed record Prepared(string Code, IReadOnlyList<string> ExternalReferences, IReadOnlyList<Assembly> CarriedReferences, bool Timed);

    public static Prepared Prepare(string source, string cellLabel, string baseDirectory)
    {
        var code = new StringBuilder();
        var external = new List<string>();
        var carried = new List<Assembly>();
        bool timed = false;
        var lines = source.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            bool directive = true;
            if (line.StartsWith("#!"))
            {
                var magic = line[2..].Split(' ', 2)[0];
                if (magic is "csharp" or "c#" or "C#") { }
                else if (magic == "time") timed = true;
                else throw new CellDirectiveException($"{cellLabel}: magic command '#!{magic}' is not supported by bat notebook run (only #!csharp and #!time)");
            }
            else if (RefDirective().Match(line) is { Success: true } r)
            {
                var target = r.Groups[1].Value.Trim();
                if (target.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
                {
                    var package = target["nuget:".Length..].Split(',')[0].Trim();
                    if (!CarriedPackages.Contains(package))
                        throw new CellDirectiveException($"{cellLabel}: NuGet package '{package}' is not carried by the runner " +
                                                         $"(carried: {string.Join(", ", CarriedPackages.Order())}); reference a built .dll with #r \"path\" instead");
                }
                else if (CarriedAssembly(target) is { } assembly) carried.Add(assembly);
                else if (Path.GetFullPath(target, baseDirectory) is var full && File.Exists(full)) external.Add(full);
                else throw new CellDirectiveException($"{cellLabel}: #r \"{target}\": file not found ({full})");
            }
            else if (line.StartsWith("#i ") || line.StartsWith("#i\"")) { } // package sources: nothing to restore
            else directive = false;
            code.Append(directive ? "" : lines[i]).Append('\n');
        }
        return new Prepared(code.ToString(), external, carried, timed);
    }

    [GeneratedRegex("^#r\\s+\"([^\"]*)\"\\s*(//.*)?$")]
    private static partial Regex RefDirective();

    /// <summary>
    /// The runner's own copy of an assembly a `#r "path"` names, matched by file name (the path need not exist:
    /// notebooks reference the Release build for VS Code). Loading a second copy would break type identity.
    /// </summary>
    public static Assembly? CarriedAssembly(string path)
    {
        var name = Path.GetFileName(path);
        if (name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) name = name[..^4];
        var loaded = AppDomain.CurrentDomain.GetAssemblies()
            .FirstOrDefault(a => string.Equals(a.GetName().Name, name, StringComparison.OrdinalIgnoreCase));
        if (loaded is not null) return loaded;
        var beside = Path.Combine(AppContext.BaseDirectory, name + ".dll");
        return File.Exists(beside) ? Assembly.Load(AssemblyName.GetAssemblyName(beside)) : null;
    }
}

/// <summary>A directive the runner cannot satisfy; reported as the cell's error output.</summary>
public sealed class CellDirectiveException(string message) : Exception(message);
