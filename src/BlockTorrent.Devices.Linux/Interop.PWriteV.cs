using System.Runtime.InteropServices;
using BlockTorrent.Devices.Linux;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>struct iovec from &lt;sys/uio.h&gt;.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct IOVector
        {
            public byte* Base;
            public nuint Count;
        }

        /// <summary>pwritev(2) (64-bit off_t): one gathered write of up to IOV_MAX buffers. Returns the bytes written, or -1.</summary>
        [LibraryImport(LibraryName, EntryPoint = "pwritev64", SetLastError = true)]
        internal static unsafe partial nint PWriteV(SafeDeviceHandle fd, IOVector* iov, int iovcnt, long offset);
    }
}
