using TorchSharp;

namespace Bat;

/// <summary>
/// Scalars the library passes where TorchSharp would otherwise make a temporary one. TorchSharp's
/// <c>a.add(b)</c> (and so <c>a + b</c>) is <c>a.add(b, 1)</c> inside, with an alpha Scalar that nothing references
/// during the native call; a garbage collection on another thread can free it mid-call (environment.md, "TorchSharp
/// and temporary Scalars"). The library writes <c>a.add(b, One)</c> instead; ScalarLifetimeGuardTests keeps it so.
/// </summary>
public static class KeptScalars
{
    /// <summary>The alpha of a plain addition (an integer, so it also suits integer tensors).</summary>
    public static readonly Scalar One = 1;
}
