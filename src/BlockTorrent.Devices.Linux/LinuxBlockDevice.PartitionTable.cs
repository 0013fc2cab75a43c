using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Linux;

/// <content>The partition-table re-read after a written disk is flushed.</content>
public sealed partial class LinuxBlockDevice
{
    private void LogReread(int error)
    {
        if (error == 0)
        {
            Log.PartitionTableReread(_logger, Name);
        }
        else if (error != Interop.Libc.EINVAL)
        {
            Log.PartitionTableNotReread(_logger, Name, DeviceErrors.Name(error));
        }
        else
        {
            switch (HoldsPartitionTable())
            {
                case false:
                    Log.NoPartitionsToReread(_logger, Name);
                    break;
                case true:
                    Log.PartitionsNotScanned(_logger, Name);
                    break;
                default:
                    Log.PartitionTableNotReread(_logger, Name, DeviceErrors.Name(error));
                    break;
            }
        }
    }

    // Whether the disk now holds a partition table, or null when its first sectors cannot be read.
    private bool? HoldsPartitionTable()
    {
        byte[] start = new byte[(int)Math.Min(PartitionTableProbe.BytesNeeded(LogicalSectorSize), Length)];
        try
        {
            ReadCore(0, start);
        }
        catch (BlockDeviceIOException e)
        {
            Log.PartitionTableUnreadable(_logger, Name, e.Message);
            return null;
        }

        return PartitionTableProbe.HoldsPartitionTable(start, LogicalSectorSize);
    }

    private int TryRereadPartitionTable()
    {
        unsafe
        {
            return Interop.Libc.Ioctl(_handle, Interop.Libc.BLKRRPART, null) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    // Every change runs the same way: validate, honour cancellation, record it in a dry run, else run the system
    // calls on the thread pool (they block; the caller's thread must not).
}
