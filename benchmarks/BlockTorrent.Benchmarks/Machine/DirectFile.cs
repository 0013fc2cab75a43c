using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace BlockTorrent.Benchmarks.Machine;

/// <summary>
/// A file opened for writing with O_DIRECT, as <c>dd oflag=direct</c> opens it: .NET has no file option for O_DIRECT on
/// Linux, so the flag is set after the open with <c>fcntl(F_SETFL)</c>, which Linux allows for O_DIRECT.
/// </summary>
[SupportedOSPlatform("linux")]
internal static partial class DirectFile
{
    private const int F_GETFL = 3;
    private const int F_SETFL = 4;

    /// <summary>Creates (or truncates) <paramref name="path"/> and returns a handle that writes past the page cache.</summary>
    public static SafeFileHandle Create(string path)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write);
        int flags = Fcntl(handle, F_GETFL, 0);
        if (flags < 0 || Fcntl(handle, F_SETFL, flags | ODirect) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new IOException($"fcntl(O_DIRECT) on {path} failed with errno {errno} (the file system may not support direct I/O; choose another --dir).");
        }

        return handle;
    }

    /// <summary>Flushes the file to its disk (fsync), as <c>dd conv=fsync</c> does at the end.</summary>
    public static void Sync(SafeFileHandle handle, string path)
    {
        if (FSync(handle) != 0)
        {
            throw new IOException($"fsync on {path} failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    // O_DIRECT differs per architecture (arm and arm64 swapped it with O_DIRECTORY).
    private static int ODirect => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.Arm or Architecture.Arm64 or Architecture.Armv6 => 0x10000,
        Architecture.Ppc64le => 0x20000,
        _ => 0x4000,
    };

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeFileHandle fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(SafeFileHandle fd);
}
