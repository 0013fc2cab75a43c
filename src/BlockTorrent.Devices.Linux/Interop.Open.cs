using System.Runtime.InteropServices;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>open(2). Returns a file descriptor, or -1 with errno set.</summary>
        [LibraryImport(LibraryName, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Open(string pathname, int flags, int mode);
    }
}
