using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Devices.Linux;

/// <content>Opening: the handle, its flags, and the probe of the geometry.</content>
public sealed partial class LinuxBlockDevice
{
    private static LinuxBlockDevice OpenFile(string path, LinuxBlockDeviceOptions options, ILogger logger, bool create, long length, Interop.Libc.StatXBuffer? expected = null)
    {
        bool writes = !options.ReadOnly && !options.DryRun;
        int flags = (writes ? Interop.Libc.O_RDWR : Interop.Libc.O_RDONLY) | Interop.Libc.O_CLOEXEC | (create ? Interop.Libc.O_CREAT : 0);
        var handle = OpenHandle(path, flags);
        try
        {
            if (create && Interop.Libc.FTruncate(handle, length) != 0)
            {
                DeviceErrors.Throw(path, "ftruncate", length, Marshal.GetLastPInvokeError());
            }

            var stat = StatHandle(handle, path);

            // A path checked as a regular file must still be that file: a device put in its place would skip every device check.
            if (expected is { } file && ((stat.Mode & Interop.Libc.S_IFMT) != Interop.Libc.S_IFREG || stat.Ino != file.Ino || stat.DevMajor != file.DevMajor || stat.DevMinor != file.DevMinor))
            {
                throw new DeviceSafetyException(path, DeviceRefusalReason.Replaced, "the image file was replaced between the check and the open; nothing was written.");
            }

            long size = (long)stat.Size;
            if (!options.ReadOnly && options.MinimumLength is long needed && size < needed)
            {
                throw new DeviceSafetyException(path, DeviceRefusalReason.TooSmall, string.Create(CultureInfo.InvariantCulture, $"the image file holds {size} bytes but the image needs {needed}."));
            }

            // Probe hole punching where it cannot change anything: beyond the end of the file, keeping its size.
            bool punch = writes && Interop.Libc.FAllocate(handle, Interop.Libc.FALLOC_FL_PUNCH_HOLE | Interop.Libc.FALLOC_FL_KEEP_SIZE, Math.Max(size, 1) + 4096, 4096) == 0;
            var geometry = new Geometry(
                Length: size,
                LogicalSectorSize: 512,
                PhysicalSectorSize: (int)Math.Max(512, stat.BlockSize),
                MemoryAlignment: 1,
                IsReadOnly: false,
                CanDiscard: punch,
                DiscardZeroesData: punch,
                IsBlockDevice: false,
                IsWholeDisk: false);
            var device = new LinuxBlockDevice(handle, path, geometry, options, logger);
            device.LogOpened("image file");
            return device;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static SafeDeviceHandle OpenHandle(string path, int flags)
    {
        int fd;
        do
        {
            fd = Interop.Libc.Open(path, flags, 0b110_100_100);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == Interop.Libc.EINTR);

        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string call = (flags & Interop.Libc.O_EXCL) != 0 ? "open(O_EXCL)" : "open";
            throw errno switch
            {
                Interop.Libc.EBUSY => new DeviceSafetyException(path, DeviceRefusalReason.Busy, "the kernel refused exclusive access (open with O_EXCL failed with EBUSY): the device or one of its partitions is mounted, held by device-mapper, md or LVM, or open exclusively by another program.", DeviceErrors.Create(path, call, null, errno)),
                Interop.Libc.EROFS => new DeviceSafetyException(path, DeviceRefusalReason.ReadOnly, "the device is read-only (open for writing failed with EROFS).", DeviceErrors.Create(path, call, null, errno)),
                _ => DeviceErrors.Create(path, call, null, errno),
            };
        }

        return new SafeDeviceHandle(fd);
    }

    private static Interop.Libc.StatXBuffer StatHandle(SafeDeviceHandle handle, string path)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            if (Interop.Libc.StatX(fd, string.Empty, Interop.Libc.AT_EMPTY_PATH, Interop.Libc.STATX_BASIC_STATS | Interop.Libc.STATX_DIOALIGN, out var stat) != 0)
            {
                DeviceErrors.Throw(path, "statx", null, Marshal.GetLastPInvokeError());
            }

            return stat;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static unsafe Geometry ReadBlockGeometry(SafeDeviceHandle handle, string path, Interop.Libc.StatXBuffer pathStat)
    {
        ulong size = 0;
        int logical = 0;
        uint physical = 0;
        int readOnly = 0;
        uint discardZeroes = 0;
        Ioctl(handle, path, Interop.Libc.BLKGETSIZE64, "BLKGETSIZE64", &size);
        Ioctl(handle, path, Interop.Libc.BLKSSZGET, "BLKSSZGET", &logical);
        Ioctl(handle, path, Interop.Libc.BLKPBSZGET, "BLKPBSZGET", &physical);
        Ioctl(handle, path, Interop.Libc.BLKROGET, "BLKROGET", &readOnly);

        // Deprecated by the kernel (it reports 0 since 4.12), so a failure only means "no promise".
        if (Interop.Libc.Ioctl(handle, Interop.Libc.BLKDISCARDZEROES, &discardZeroes) != 0)
        {
            discardZeroes = 0;
        }

        var stat = StatHandle(handle, path);
        int memoryAlignment = (stat.Mask & Interop.Libc.STATX_DIOALIGN) != 0 && stat.DioMemAlign > 0 ? (int)stat.DioMemAlign : logical;
        if (memoryAlignment > Environment.SystemPageSize)
        {
            // Bounce buffers are page-aligned mappings; a device asking for more could not be written through them.
            throw new NotSupportedException(FormattableString.Invariant($"{path} needs memory aligned to {memoryAlignment} bytes, more than a page ({Environment.SystemPageSize})."));
        }


        string sys = FormattableString.Invariant($"/sys/dev/block/{pathStat.RdevMajor}:{pathStat.RdevMinor}");
        bool isPartition = File.Exists(Path.Combine(sys, "partition"));
        string queue = isPartition ? Path.Combine(sys, "..", "queue") : Path.Combine(sys, "queue");
        bool canDiscard = SysFs.ReadLong(Path.Combine(queue, "discard_max_bytes")) > 0;

        return new Geometry(
            Length: checked((long)size),
            LogicalSectorSize: logical,
            PhysicalSectorSize: (int)Math.Max(physical, (uint)logical),
            MemoryAlignment: Math.Max(1, memoryAlignment),
            IsReadOnly: readOnly != 0,
            CanDiscard: canDiscard,
            DiscardZeroesData: discardZeroes != 0,
            IsBlockDevice: true,
            IsWholeDisk: !isPartition);
    }

    private static unsafe void Ioctl(SafeDeviceHandle handle, string path, nuint request, string name, void* argument)
    {
        if (Interop.Libc.Ioctl(handle, request, argument) != 0)
        {
            DeviceErrors.Throw(path, $"ioctl({name})", null, Marshal.GetLastPInvokeError());
        }
    }

    private readonly record struct Geometry(
        long Length,
        int LogicalSectorSize,
        int PhysicalSectorSize,
        int MemoryAlignment,
        bool IsReadOnly,
        bool CanDiscard,
        bool DiscardZeroesData,
        bool IsBlockDevice,
        bool IsWholeDisk);
}
