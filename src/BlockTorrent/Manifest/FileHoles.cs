using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace BlockTorrent.Manifest;

/// <summary>
/// Finds the holes of a sparse image file with lseek's SEEK_DATA and SEEK_HOLE (as bmaptool does), so the ranges
/// that hold no data are neither read nor hashed. A hole reads as zeros; so may data (zeros written out), which the
/// hashers recognise by content instead.
/// </summary>
/// <remarks>
/// Only Linux asks; elsewhere, or when the file system answers an unexpected error, every byte counts as data and
/// the file is read as a dense one. A file system that does not track holes reports the whole file as data, which
/// is also correct. lseek moves the shared file offset, which the hashers' positional reads never use, so workers
/// may ask at the same time.
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
    /// <returns>The offset, or the file's length when only holes follow.</returns>
    public long NextData(long offset) => Seek(offset, Interop.Libc.SEEK_DATA, ifNone: length, ifUnknown: offset);

    /// <summary>Gets the first offset at or after <paramref name="offset"/> that is in a hole.</summary>
    /// <param name="offset">Where to look from.</param>
    /// <returns>The offset, or the file's length when data runs to its end.</returns>
    public long NextHole(long offset) => Seek(offset, Interop.Libc.SEEK_HOLE, ifNone: length, ifUnknown: length);

    private long Seek(long offset, int whence, long ifNone, long ifUnknown)
    {
        if (_disabled || !OperatingSystem.IsLinux())
        {
            return ifUnknown;
        }

        long result = Interop.Libc.LSeek(file, offset, whence);
        if (result >= 0)
        {
            return Math.Min(result, length);
        }

        if (Marshal.GetLastPInvokeError() == Interop.Libc.ENXIO)
        {
            // Nothing of the asked kind at or after the offset: only holes follow (SEEK_DATA), or the file has shrunk
            // (the next read says so, naming the file).
            return ifNone;
        }

        // Not a question this file system answers: read everything, as for a dense file.
        _disabled = true;
        return ifUnknown;
    }
}
