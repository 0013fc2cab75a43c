using System.Runtime.InteropServices;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // <fcntl.h>, <linux/stat.h>
        internal const int AT_FDCWD = -100;
        internal const int AT_EMPTY_PATH = 0x1000;
        internal const uint STATX_BASIC_STATS = 0x7ff;
        internal const uint STATX_DIOALIGN = 0x2000;

        /// <summary>
        /// struct statx from &lt;linux/stat.h&gt;. Unlike struct stat its layout is the same on every architecture,
        /// which is why it is used here. Only the fields some package reads are declared.
        /// </summary>
        [StructLayout(LayoutKind.Explicit, Size = 256)]
        internal struct StatXBuffer
        {
            [FieldOffset(0)] public uint Mask;
            [FieldOffset(4)] public uint BlockSize;
            [FieldOffset(28)] public ushort Mode;
            [FieldOffset(32)] public ulong Ino;
            [FieldOffset(40)] public ulong Size;
            [FieldOffset(48)] public ulong Blocks;
            [FieldOffset(96)] public long ChangeSeconds;
            [FieldOffset(104)] public uint ChangeNanoseconds;
            [FieldOffset(112)] public long ModifySeconds;
            [FieldOffset(120)] public uint ModifyNanoseconds;
            [FieldOffset(128)] public uint RdevMajor;
            [FieldOffset(132)] public uint RdevMinor;
            [FieldOffset(136)] public uint DevMajor;
            [FieldOffset(140)] public uint DevMinor;
            [FieldOffset(152)] public uint DioMemAlign;
            [FieldOffset(156)] public uint DioOffsetAlign;
        }

        /// <summary>statx(2). Pass AT_FDCWD and a path, or a descriptor with "" and AT_EMPTY_PATH.</summary>
        [LibraryImport(LibraryName, EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int StatX(int dirfd, string pathname, int flags, uint mask, out StatXBuffer statxbuf);
    }
}
