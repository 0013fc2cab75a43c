using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Linux;

/// <content>Zeroing and discard: the kernel's or file system's own strategies, then writing zeros.</content>
public sealed partial class LinuxBlockDevice
{
    private unsafe void ZeroRangeCore(long offset, long length, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _written, 1);
        if (!IsBlockDevice)
        {
            ZeroFileRange(offset, length, cancellationToken);
            return;
        }

        // Whole sectors go to BLKZEROOUT; the partial sectors at either end are patched with zeros.
        long end = offset + length;
        long alignedStart = AlignUp(offset, _ioAlignment);
        long alignedEnd = AlignDown(end, _ioAlignment);
        if (alignedStart >= alignedEnd)
        {
            WriteZeros(offset, length, cancellationToken);
            return;
        }

        WriteZeros(offset, alignedStart - offset, cancellationToken);
        WriteZeros(alignedEnd, end - alignedEnd, cancellationToken);
        ulong* range = stackalloc ulong[2];
        for (long position = alignedStart; position < alignedEnd; position += ZeroSliceBytes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long slice = Math.Min(ZeroSliceBytes, alignedEnd - position);
            if (!_zeroOutSupported)
            {
                WriteZeros(position, slice, cancellationToken);
                continue;
            }

            range[0] = (ulong)position;
            range[1] = (ulong)slice;
            if (Interop.Libc.Ioctl(_handle, Interop.Libc.BLKZEROOUT, range) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (!DeviceErrors.IsUnsupported(errno))
                {
                    DeviceErrors.Throw(Name, "ioctl(BLKZEROOUT)", position, errno);
                }

                _zeroOutSupported = false;
                Log.Fallback(_logger, Name, "ioctl(BLKZEROOUT)", DeviceErrors.Name(errno), "writing zeros");
                WriteZeros(position, slice, cancellationToken);
            }
        }
    }

    private void ZeroFileRange(long offset, long length, CancellationToken cancellationToken)
    {
        // A punched hole reads back as zeros and frees the blocks; zero-range keeps blocks allocated, so it is second.
        if (_punchHoleSupported)
        {
            if (Interop.Libc.FAllocate(_handle, Interop.Libc.FALLOC_FL_PUNCH_HOLE | Interop.Libc.FALLOC_FL_KEEP_SIZE, offset, length) == 0)
            {
                return;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (!DeviceErrors.IsUnsupported(errno))
            {
                DeviceErrors.Throw(Name, "fallocate(FALLOC_FL_PUNCH_HOLE)", offset, errno);
            }

            _punchHoleSupported = false;
            Log.Fallback(_logger, Name, "fallocate(FALLOC_FL_PUNCH_HOLE)", DeviceErrors.Name(errno), "FALLOC_FL_ZERO_RANGE");
        }

        if (_zeroOutSupported)
        {
            if (Interop.Libc.FAllocate(_handle, Interop.Libc.FALLOC_FL_ZERO_RANGE | Interop.Libc.FALLOC_FL_KEEP_SIZE, offset, length) == 0)
            {
                return;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (!DeviceErrors.IsUnsupported(errno))
            {
                DeviceErrors.Throw(Name, "fallocate(FALLOC_FL_ZERO_RANGE)", offset, errno);
            }

            _zeroOutSupported = false;
            Log.Fallback(_logger, Name, "fallocate(FALLOC_FL_ZERO_RANGE)", DeviceErrors.Name(errno), "writing zeros");
        }

        WriteZeros(offset, length, cancellationToken);
    }

    private unsafe void DiscardCore(long offset, long length, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _written, 1);
        if (!IsBlockDevice)
        {
            if (Interop.Libc.FAllocate(_handle, Interop.Libc.FALLOC_FL_PUNCH_HOLE | Interop.Libc.FALLOC_FL_KEEP_SIZE, offset, length) != 0)
            {
                // DiscardZeroesData promised zeros for files, so an unexpected refusal must still leave zeros.
                int errno = Marshal.GetLastPInvokeError();
                if (!DeviceErrors.IsUnsupported(errno))
                {
                    DeviceErrors.Throw(Name, "fallocate(FALLOC_FL_PUNCH_HOLE)", offset, errno);
                }

                Log.Fallback(_logger, Name, "fallocate(FALLOC_FL_PUNCH_HOLE)", DeviceErrors.Name(errno), "writing zeros");
                WriteZeros(offset, length, cancellationToken);
            }

            return;
        }

        long alignedStart = AlignUp(offset, _ioAlignment);
        long alignedEnd = AlignDown(offset + length, _ioAlignment);
        ulong* range = stackalloc ulong[2];
        for (long position = alignedStart; position < alignedEnd && _canDiscard; position += ZeroSliceBytes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            range[0] = (ulong)position;
            range[1] = (ulong)Math.Min(ZeroSliceBytes, alignedEnd - position);
            if (Interop.Libc.Ioctl(_handle, Interop.Libc.BLKDISCARD, range) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (!DeviceErrors.IsUnsupported(errno))
                {
                    DeviceErrors.Throw(Name, "ioctl(BLKDISCARD)", position, errno);
                }

                _canDiscard = false;
                Log.Fallback(_logger, Name, "ioctl(BLKDISCARD)", DeviceErrors.Name(errno), "ignoring discards (they are hints)");
            }
        }
    }

    // Writes zeros from one cleared bounce buffer, reused for every chunk.
    private unsafe void WriteZeros(long offset, long length, CancellationToken cancellationToken)
    {
        if (length == 0)
        {
            return;
        }

        var zeros = _bounce.Rent();
        try
        {
            zeros.GetSpan().Clear();
            long end = offset + length;
            long position = offset;
            while (position < end)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = (int)Math.Min(zeros.Length, end - position);
                if (position % _ioAlignment == 0 && count % _ioAlignment == 0)
                {
                    int error = TryWriteAll(zeros.Pointer, count, position);
                    if (error != 0)
                    {
                        DeviceErrors.Throw(Name, "pwrite", position, error);
                    }
                }
                else
                {
                    // Partial sectors need read-modify-write under their locks; WriteBounced does that with its own buffer.
                    WriteBounced(position, zeros.GetSpan()[..count]);
                }

                position += count;
            }
        }
        finally
        {
            _bounce.Return(zeros);
        }
    }

    // EINVAL from BLKRRPART on a whole disk means the kernel keeps no partitions for this device (a loop device
    // attached without partition scanning, a device with a single minor): there are no stale partitions, and a re-read
    // only matters when the disk holds a partition table whose partitions the operator will look for.
}
