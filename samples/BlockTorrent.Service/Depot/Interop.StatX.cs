using System.Runtime.InteropServices;

namespace BlockTorrent.Service.Depot;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int AT_FDCWD = -100;
        internal const uint STATX_BASIC_STATS = 0x7FF;
        internal const int ENOENT = 2;

        /// <summary>
        /// struct statx from &lt;linux/stat.h&gt;, the same on every architecture. Only the fields the depot compares
        /// to notice a changed file are declared.
        /// </summary>
        [StructLayout(LayoutKind.Explicit, Size = 256)]
        internal struct StatXBuffer
        {
            [FieldOffset(32)] public ulong Inode;
            [FieldOffset(40)] public ulong Size;
            [FieldOffset(96)] public long ChangeSeconds;
            [FieldOffset(104)] public uint ChangeNanoseconds;
            [FieldOffset(112)] public long ModifySeconds;
            [FieldOffset(120)] public uint ModifyNanoseconds;
            [FieldOffset(136)] public uint DevMajor;
            [FieldOffset(140)] public uint DevMinor;
        }

        /// <summary>statx(2) of a path.</summary>
        [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int StatX(int dirfd, string pathname, int flags, uint mask, out StatXBuffer statxbuf);
    }
}
