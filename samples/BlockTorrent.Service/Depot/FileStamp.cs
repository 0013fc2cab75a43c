using System.Runtime.InteropServices;

namespace BlockTorrent.Service.Depot;

/// <summary>
/// What the depot compares to notice that a file changed: its length and modification time, and on Linux its
/// identity (device and inode) and status-change time (ctime). A write moves the ctime even when the modification
/// time is set back afterwards (<c>cp -p</c>, <c>rsync -t</c>, <c>touch -r</c>), and a file renamed over it has
/// another inode, so a change that keeps the length and the modification time is still seen.
/// </summary>
/// <param name="Length">The length in bytes.</param>
/// <param name="LastWriteUtc">The modification time.</param>
/// <param name="LastChangeUtc">The status-change time on Linux; the modification time elsewhere.</param>
/// <param name="Identity">The device and inode on Linux; 0 elsewhere.</param>
internal readonly record struct FileStamp(long Length, DateTime LastWriteUtc, DateTime LastChangeUtc, UInt128 Identity)
{
    /// <summary>Reads the stamp of a file, or <see langword="null"/> when there is none.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The stamp, or <see langword="null"/> for a missing file.</returns>
    /// <exception cref="IOException">The file's status cannot be read.</exception>
    public static FileStamp? Read(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            if (Interop.Libc.StatX(Interop.Libc.AT_FDCWD, path, 0, Interop.Libc.STATX_BASIC_STATS, out Interop.Libc.StatXBuffer stat) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                return errno == Interop.Libc.ENOENT
                    ? null
                    : throw new IOException($"statx('{path}') failed: {Marshal.GetPInvokeErrorMessage(errno)}");
            }

            UInt128 identity = ((UInt128)(((ulong)stat.DevMajor << 32) | stat.DevMinor) << 64) | stat.Ino;
            return new FileStamp((long)stat.Size, Time(stat.ModifySeconds, stat.ModifyNanoseconds), Time(stat.ChangeSeconds, stat.ChangeNanoseconds), identity);
        }

        var file = new FileInfo(path);
        return file.Exists ? new FileStamp(file.Length, file.LastWriteTimeUtc, file.LastWriteTimeUtc, 0) : null;
    }

    private static DateTime Time(long seconds, uint nanoseconds) =>
        DateTime.UnixEpoch.AddTicks((seconds * TimeSpan.TicksPerSecond) + (nanoseconds / 100));
}
