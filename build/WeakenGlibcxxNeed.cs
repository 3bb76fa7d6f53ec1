// MSBuild task (compiled by RoslynCodeTaskFactory) that lets TorchSharp 0.107's native library load on
// distributions whose libstdc++ predates GCC 13 (Debian 12 ships GLIBCXX_3.4.30).
//
// libLibTorchSharp.so declares a version need on GLIBCXX_3.4.32, but the only symbol it binds at that version
// is the marker `std::ios_base_library_init`, which no relocation uses. Marking that one version need as weak
// (VER_FLG_WEAK in its Vernaux entry of .gnu.version_r) makes the dynamic loader accept a libstdc++ that lacks it.
// The task touches only the copies in the build output, and only when the system libstdc++ lacks the version,
// so machines with a newer libstdc++ keep the library byte for byte as shipped.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenGlibcxxNeed : Task
{
    const string Version = "GLIBCXX_3.4.32";
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    static readonly string[] SystemLibstdcxx =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
    };

    public override bool Execute()
    {
        if (Libraries.Length == 0) return true;
        var system = Array.Find(SystemLibstdcxx, p => File.Exists(p));
        if (system == null) { Log.LogMessage(MessageImportance.Low, "No system libstdc++ found; TorchSharp left as shipped."); return true; }
        if (Contains(File.ReadAllBytes(system), Encoding.ASCII.GetBytes(Version + "\0")))
        {
            Log.LogMessage(MessageImportance.Low, $"{system} provides {Version}; TorchSharp left as shipped.");
            return true;
        }
        foreach (var item in Libraries)
        {
            var path = item.ItemSpec;
            try
            {
                var bytes = File.ReadAllBytes(path);
                switch (MarkWeak(bytes))
                {
                    case PatchResult.Patched:
                        var tmp = path + ".tmp";
                        File.WriteAllBytes(tmp, bytes);
                        File.Copy(tmp, path, true);
                        File.Delete(tmp);
                        Log.LogMessage(MessageImportance.High, $"{path}: marked the {Version} version need weak ({system} lacks it).");
                        break;
                    case PatchResult.AlreadyWeak: break;
                    case PatchResult.NotNeeded:
                        Log.LogMessage(MessageImportance.Low, $"{path}: needs no {Version}.");
                        break;
                }
            }
            catch (Exception e)
            {
                Log.LogError($"{path}: could not mark {Version} weak: {e.Message}");
                return false;
            }
        }
        return !Log.HasLoggedErrors;
    }

    enum PatchResult { Patched, AlreadyWeak, NotNeeded }

    // Walks the ELF64 little-endian section headers to .gnu.version_r and flips VER_FLG_WEAK on the entry.
    static PatchResult MarkWeak(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A), shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(elf, (int)sh + 0x18);
            uint link = BitConverter.ToUInt32(elf, (int)sh + 0x28);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + link * shentsize) + 0x18);
            long need = offset;
            while (true)
            {
                int count = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < count; a++)
                {
                    uint name = BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadString(elf, strtab + name) == Version)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlgWeak) != 0) return PatchResult.AlreadyWeak;
                        var patched = (ushort)(flags | VerFlgWeak);
                        elf[aux + 4] = (byte)(patched & 0xff);
                        elf[aux + 5] = (byte)(patched >> 8);
                        return PatchResult.Patched;
                    }
                    uint nextAux = BitConverter.ToUInt32(elf, (int)aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BitConverter.ToUInt32(elf, (int)need + 12);
                if (next == 0) break;
                need += next;
            }
        }
        return PatchResult.NotNeeded;
    }

    static string ReadString(byte[] b, long at)
    {
        int end = (int)at;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)at, end - (int)at);
    }

    static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }
}
