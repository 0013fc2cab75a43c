using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>Pages may be read and written (PROT_READ | PROT_WRITE).</summary>
        internal const int PROT_READ_WRITE = 0x1 | 0x2;

        /// <summary>A private mapping of no file: zero-filled memory (MAP_PRIVATE | MAP_ANONYMOUS, the same on x86-64 and arm64).</summary>
        internal const int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

        /// <summary>madvise advice: back the range with transparent huge pages where the kernel can.</summary>
        internal const int MADV_HUGEPAGE = 14;

        /// <summary>The size of a transparent huge page on x86-64 and on arm64 with 4 KiB pages.</summary>
        internal const int HugePageSize = 2 << 20;

        /// <summary>mmap(2): maps memory.</summary>
        /// <param name="address">A hint, or null.</param>
        /// <param name="length">The length in bytes.</param>
        /// <param name="protection">PROT_* flags.</param>
        /// <param name="flags">MAP_* flags.</param>
        /// <param name="fd">The file, or -1 for an anonymous mapping.</param>
        /// <param name="offset">The offset in the file.</param>
        /// <returns>The mapping, or MAP_FAILED (-1) with errno set.</returns>
        [LibraryImport(LibraryName, EntryPoint = "mmap", SetLastError = true)]
        [SupportedOSPlatform("linux")]
        internal static unsafe partial void* MMap(void* address, nuint length, int protection, int flags, int fd, nint offset);

        /// <summary>munmap(2): unmaps memory mapped with <see cref="MMap"/>.</summary>
        /// <param name="address">The mapping.</param>
        /// <param name="length">Its length.</param>
        /// <returns>0, or -1 with errno set.</returns>
        [LibraryImport(LibraryName, EntryPoint = "munmap", SetLastError = true)]
        [SupportedOSPlatform("linux")]
        internal static unsafe partial int MUnmap(void* address, nuint length);

        /// <summary>madvise(2): tells the kernel how a range of memory will be used.</summary>
        /// <param name="address">The start of the range (page-aligned).</param>
        /// <param name="length">Its length.</param>
        /// <param name="advice">A MADV_* value.</param>
        /// <returns>0, or -1 with errno set.</returns>
        [LibraryImport(LibraryName, EntryPoint = "madvise", SetLastError = true)]
        [SupportedOSPlatform("linux")]
        internal static unsafe partial int MAdvise(void* address, nuint length, int advice);
    }
}
