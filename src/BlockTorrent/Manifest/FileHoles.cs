using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace BlockTorrent.Manifest;

/// <summary>
/// Finds the holes of a sparse image file with lseek's SEEK_DATA (as bmaptool does), so the ranges that hold no data
/// are neither read nor hashed. A hole reads as zeros; so may data (zeros written out), which the hashers recognise
/// by content instead.
/// </summary>
/// <remarks>
/// <para>
/// Only SEEK_DATA is asked, always from the start of a range the caller is about to read: from an offset in data it
/// answers at once, and from a hole it skips to the next data through the file system's extent map. SEEK_HOLE is not
/// asked: on some file systems (tmpfs) it walks the page cache to the end of the data, the whole of a dense file.
/// </para>
/// <para>
/// Only Linux asks; elsewhere, or when the file system answers an unexpected error, every byte counts as data and
/// the file is read as a dense one. A file system that does not track holes reports the whole file as data, which
/// is also correct. lseek moves the shared file offset, which the hashers' positional reads never use, so workers
/// may ask at the same time.
/// </para>
/// </remarks>
internal sealed class FileHoles(SafeFileHandle file, long length)
{
    private volatile bool _disabled = !OperatingSystem.IsLinux();

    /// <summary>Gets a value indicating whether <c>[offset, offset + count)</c> lies wholly in a hole.</summary>
    /// <param name="offset">The start of the range, before the file's end.</param>
    /// <param name="count">The length of the range.</param>
    /// <returns><see langword="true"/> when no data starts before the range's end.</returns>
    public bool IsHole(long offset, long count) => NextData(offset) >= offset + count;

    /// <summary>Gets the first offset at or after <paramref name="offset"/> that holds data.</summary>
    /// <param name="offset">Where to look from.</param>
    /// <returns>The offset (itself when holes are unknown), or the file's length when only holes follow.</returns>
    public long NextData(long offset)
    {
        if (_disabled || !OperatingSystem.IsLinux())
        {
            return offset;
        }

        long result = Interop.Libc.LSeek(file, offset, Interop.Libc.SEEK_DATA);
        if (result >= 0)
        {
            return Math.Min(result, length);
        }

        if (Marshal.GetLastPInvokeError() == Interop.Libc.ENXIO)
        {
            // No data at or after the offset: only holes follow, or the file has shrunk (which the builder checks at
            // the end, naming the file).
            return length;
        }

        // Not a question this file system answers: read everything, as for a dense file.
        _disabled = true;
        return offset;
    }
}
