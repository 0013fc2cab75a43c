using System.Buffers;
using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Linux;

/// <content>Transfers: aligned requests straight to the kernel, the rest through bounce buffers.</content>
public sealed partial class LinuxBlockDevice
{
    private static long AlignDown(long value, int alignment) => value - (value % alignment);

    private static long AlignUp(long value, int alignment) => AlignDown(value + alignment - 1, alignment);

    private unsafe bool IsAligned(long offset, long length, byte* memory) =>
        offset % _ioAlignment == 0 && length % _ioAlignment == 0 && (nuint)memory % (nuint)_memoryAlignment == 0;

    private unsafe void ReadCore(long offset, Span<byte> destination)
    {
        fixed (byte* p = destination)
        {
            if (IsAligned(offset, destination.Length, p))
            {
                int error = TryReadAll(p, destination.Length, offset);
                if (error == 0)
                {
                    Interlocked.Increment(ref _directTransfers);
                    return;
                }

                // EINVAL on the fast path means the kernel wants stricter alignment than it advertised: bounce instead.
                if (error != Interop.Libc.EINVAL || _ioAlignment == 1)
                {
                    DeviceErrors.Throw(Name, "pread", offset, error);
                }
            }
        }

        Interlocked.Increment(ref _bouncedTransfers);

        // Bounce: read whole sectors around the request and copy the requested bytes out.
        var buffer = _bounce.Rent();
        try
        {
            long position = offset;
            int done = 0;
            while (done < destination.Length)
            {
                long chunkStart = AlignDown(position, _ioAlignment);
                int skip = (int)(position - chunkStart);
                int count = (int)Math.Min(destination.Length - done, chunkStart + buffer.Length - position);
                int chunkLength = (int)(AlignUp(position + count, _ioAlignment) - chunkStart);
                ReadAllOrThrow(buffer.Pointer, chunkLength, chunkStart);
                buffer.GetSpan().Slice(skip, count).CopyTo(destination[done..]);
                done += count;
                position += count;
            }
        }
        finally
        {
            _bounce.Return(buffer);
        }
    }

    private unsafe void WriteCore(long offset, ReadOnlySpan<byte> data)
    {
        Volatile.Write(ref _written, 1);
        fixed (byte* p = data)
        {
            if (IsAligned(offset, data.Length, p))
            {
                int error = TryWriteAll(p, data.Length, offset);
                if (error == 0)
                {
                    Interlocked.Increment(ref _directTransfers);
                    return;
                }

                // EINVAL on the fast path means the kernel wants stricter alignment than it advertised: bounce instead.
                if (error != Interop.Libc.EINVAL || _ioAlignment == 1)
                {
                    DeviceErrors.Throw(Name, "pwrite", offset, error);
                }
            }
        }

        WriteBounced(offset, data);
    }

    /// <summary>
    /// Writes through aligned bounce buffers, one buffer-sized chunk at a time. Only the first and last sector of the
    /// whole request can be partial; those are read first (read-modify-write) under their sector locks.
    /// </summary>
    private unsafe void WriteBounced(long offset, ReadOnlySpan<byte> data)
    {
        Interlocked.Increment(ref _bouncedTransfers);
        var buffer = _bounce.Rent();
        try
        {
            long position = offset;
            int done = 0;
            while (done < data.Length)
            {
                long chunkStart = AlignDown(position, _ioAlignment);
                int head = (int)(position - chunkStart);
                int count = (int)Math.Min(data.Length - done, chunkStart + buffer.Length - position);
                long chunkEnd = AlignUp(position + count, _ioAlignment);
                int chunkLength = (int)(chunkEnd - chunkStart);
                bool headPartial = head != 0;
                bool tailPartial = (position + count) % _ioAlignment != 0;
                long headSector = headPartial ? chunkStart / _ioAlignment : -1;
                long tailSector = tailPartial ? (chunkEnd / _ioAlignment) - 1 : -1;

                using (_sectorLocks.Enter(headSector, tailSector))
                {
                    if (headPartial)
                    {
                        ReadAllOrThrow(buffer.Pointer, _ioAlignment, chunkStart);
                    }

                    if (tailPartial && tailSector != headSector)
                    {
                        ReadAllOrThrow(buffer.Pointer + chunkLength - _ioAlignment, _ioAlignment, chunkEnd - _ioAlignment);
                    }

                    data.Slice(done, count).CopyTo(buffer.GetSpan()[head..]);
                    int error = TryWriteAll(buffer.Pointer, chunkLength, chunkStart);
                    if (error != 0)
                    {
                        DeviceErrors.Throw(Name, "pwrite", chunkStart, error);
                    }
                }

                done += count;
                position += count;
            }
        }
        finally
        {
            _bounce.Return(buffer);
        }
    }

    private unsafe void WriteGatherCore(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers)
    {
        Volatile.Write(ref _written, 1);
        bool aligned = offset % _ioAlignment == 0;
        var pins = new MemoryHandle[buffers.Count];
        try
        {
            for (int i = 0; i < buffers.Count && aligned; i++)
            {
                pins[i] = buffers[i].Pin();
                aligned = IsAligned(0, buffers[i].Length, (byte*)pins[i].Pointer);
            }

            if (aligned && TryWriteGathered(offset, buffers, pins) == 0)
            {
                Interlocked.Increment(ref _directTransfers);
                return;
            }
        }
        finally
        {
            foreach (var pin in pins)
            {
                pin.Dispose();
            }
        }

        // Not all aligned (or the kernel wanted stricter alignment): one buffer at a time, each bounced as needed.
        long position = offset;
        for (int i = 0; i < buffers.Count; i++)
        {
            WriteCore(position, buffers[i].Span);
            position += buffers[i].Length;
        }
    }

    // pwritev in batches of at most IOV_MAX vectors, resuming after short writes. Returns 0, EINVAL (caller falls
    // back to bouncing) or throws.
    private unsafe int TryWriteGathered(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, MemoryHandle[] pins)
    {
        const int Batch = 256;
        var vectors = stackalloc Interop.Libc.IOVector[Batch];
        int index = 0;
        long skip = 0; // bytes of buffers[index] already written
        long position = offset;
        while (index < buffers.Count)
        {
            int n = 0;
            for (int i = index; i < buffers.Count && n < Batch; i++, n++)
            {
                long already = i == index ? skip : 0;
                vectors[n].Base = (byte*)pins[i].Pointer + already;
                vectors[n].Count = (nuint)(buffers[i].Length - already);
            }

            nint written = Interop.Libc.PWriteV(_handle, vectors, n, position);
            if (written < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Libc.EINTR)
                {
                    continue;
                }

                if (errno == Interop.Libc.EINVAL && _ioAlignment != 1 && position == offset)
                {
                    return errno;
                }

                DeviceErrors.Throw(Name, "pwritev", position, errno);
            }

            if (written == 0)
            {
                DeviceErrors.Throw(Name, "pwritev", position, Interop.Libc.ENOSPC);
            }

            position += written;
            long remaining = written;
            while (remaining > 0 && index < buffers.Count)
            {
                long left = buffers[index].Length - skip;
                if (remaining >= left)
                {
                    remaining -= left;
                    index++;
                    skip = 0;
                }
                else
                {
                    skip += remaining;
                    remaining = 0;
                }
            }

            while (index < buffers.Count && buffers[index].Length == 0)
            {
                index++;
            }
        }

        return 0;
    }

    private unsafe int TryWriteAll(byte* source, int length, long offset) => TryTransferAll(write: true, source, length, offset);

    private unsafe int TryReadAll(byte* destination, int length, long offset) => TryTransferAll(write: false, destination, length, offset);

    // pread/pwrite until every byte moved, retrying EINTR and resuming after short transfers. A failure before any
    // byte moved returns its errno (the caller may fall back to bouncing on EINVAL); a later failure throws.
    private unsafe int TryTransferAll(bool write, byte* memory, int length, long offset)
    {
        int done = 0;
        while (done < length)
        {
            nint moved = write
                ? Interop.Libc.PWrite(_handle, memory + done, (nuint)(length - done), offset + done)
                : Interop.Libc.PRead(_handle, memory + done, (nuint)(length - done), offset + done);
            if (moved < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Libc.EINTR)
                {
                    continue;
                }

                if (done == 0)
                {
                    return errno;
                }

                DeviceErrors.Throw(Name, write ? "pwrite" : "pread", offset + done, errno);
            }

            if (moved == 0)
            {
                // Only [0, Length) is ever addressed, so nothing moving means the device is full or shrank under us.
                DeviceErrors.Throw(Name, write ? "pwrite" : "pread", offset + done, write ? Interop.Libc.ENOSPC : Interop.Libc.EIO);
            }

            done += (int)moved;
        }

        return 0;
    }

    private unsafe void ReadAllOrThrow(byte* destination, int length, long offset)
    {
        int error = TryReadAll(destination, length, offset);
        if (error != 0)
        {
            DeviceErrors.Throw(Name, "pread", offset, error);
        }
    }

    private void FlushCore()
    {
        if (Interop.Libc.FSync(_handle) != 0)
        {
            DeviceErrors.Throw(Name, "fsync", null, Marshal.GetLastPInvokeError());
        }
    }
}
