using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bat;

/// <summary>
/// Loads TorchSharp's native libraries from the build output beside Bat.Core.dll (runtimes/RID/native), libtorch
/// first and then libLibTorchSharp, when Bat.Core is loaded. A program built with the suite finds them through its
/// deps.json anyway; a notebook kernel that only has `#r` of the built DLLs (Jupyter's or VS Code's .NET kernel,
/// dotnet-repl) does not, and TorchSharp would then ask for a NuGet reference to libtorch-cpu. Loading our copy
/// also means the kernel uses the libLibTorchSharp.so the build patched for Debian 12's libstdc++ (environment.md).
/// Once a library is loaded, the runtime's later lookups by name get the same handle.
/// </summary>
public static class TorchNative
{
    /// <summary>The folder the libraries were loaded from, or null when none was found beside Bat.Core.dll.</summary>
    public static string? LoadedFrom { get; private set; }

    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "must precede TorchSharp's own native lookup")]
    internal static void LoadOnModuleInit() => Load();

    /// <summary>Loads the libraries if not done yet; safe to call any number of times (the notebook prelude does).</summary>
    public static void Load()
    {
        if (LoadedFrom is not null) return;
        var (torchLib, sharpLib) = OperatingSystem.IsWindows() ? ("torch.dll", "LibTorchSharp.dll")
            : OperatingSystem.IsMacOS() ? ("libtorch.dylib", "libLibTorchSharp.dylib")
            : ("libtorch.so", "libLibTorchSharp.so");
        var baseDir = Path.GetDirectoryName(typeof(TorchNative).Assembly.Location);
        if (string.IsNullOrEmpty(baseDir)) return;   // loaded from bytes: nothing beside it to find
        var native = Path.Combine(baseDir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native");
        if (!File.Exists(Path.Combine(native, sharpLib)))
            native = Path.Combine(baseDir, "runtimes", PortableRid(), "native");
        // A RID-specific publish puts them beside the DLL instead.
        foreach (var dir in new[] { native, baseDir })
        {
            string torch = Path.Combine(dir, torchLib), sharp = Path.Combine(dir, sharpLib);
            if (!File.Exists(torch) || !File.Exists(sharp)) continue;
            NativeLibrary.Load(torch);
            NativeLibrary.Load(sharp);
            LoadedFrom = dir;
            return;
        }
    }

    static string PortableRid()
    {
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        return $"{os}-{arch}";
    }
}
