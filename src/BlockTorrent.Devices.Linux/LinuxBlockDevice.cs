using System.Buffers;
using BlockTorrent.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Devices.Linux;

/// <summary>
/// A Linux block device (<c>/dev/sdX</c>, <c>/dev/nvme0n1</c>, <c>/dev/mmcblk0</c>, <c>/dev/loopN</c>, a partition) or a
/// regular image file, read and written with positional system calls.
/// </summary>
/// <remarks>
/// <para>
/// Block devices are opened with O_DIRECT and O_EXCL: the page cache is bypassed, and the kernel refuses the open
/// while the device or any partition of it is mounted or claimed. Before that, <see cref="LinuxDeviceSafety"/> checks
/// the target against a fresh device snapshot, so a refusal names the mount or holder that stands in the way.
/// Geometry comes from BLKGETSIZE64, BLKSSZGET, BLKPBSZGET and BLKROGET; zeroing from BLKZEROOUT; discard from
/// BLKDISCARD. Disposing a written whole disk flushes it and asks the kernel to re-read the partition table (BLKRRPART).
/// </para>
/// <para>
/// Any offset and length are accepted. Requests whose offset and length are multiples of <see cref="LogicalSectorSize"/>
/// and whose memory is aligned to <see cref="MemoryAlignment"/> go straight from the caller's memory to the device;
/// others go through aligned bounce buffers, and partial sectors are read, patched and written back under a
/// per-sector lock so that concurrent writes sharing a sector do not undo each other.
/// </para>
/// <para>
/// Image files use the page cache; zero ranges and discards punch holes (FALLOC_FL_PUNCH_HOLE), so a deployed image
/// stays sparse.
/// </para>
/// </remarks>
public sealed class LinuxBlockDevice : IBlockDevice
{
    // Bounce buffers: 1 MiB keeps a bounced transfer large enough to be efficient and the pool small.
    private const int BounceBufferSize = 1 << 20;

    // BLKZEROOUT and BLKDISCARD run in slices of this size so that a cancellation is seen between slices.
    private const long ZeroSliceBytes = 1L << 30;

    private readonly SafeDeviceHandle _handle;
    private readonly ILogger _logger;
    private readonly AlignedBufferPool _bounce;
    private readonly SectorLocks _sectorLocks = new();
    private readonly bool _isWholeDisk;
    private readonly bool _rereadOnDispose;

    // Alignment the kernel enforces on transfers: the logical sector size with O_DIRECT, 1 through the page cache.
    private readonly int _ioAlignment;
    private readonly int _memoryAlignment;

    private volatile bool _zeroOutSupported = true;
    private volatile bool _punchHoleSupported;
    private volatile bool _canDiscard;
    private int _written;
    private int _disposed;
    private long _directTransfers;
    private long _bouncedTransfers;

    private LinuxBlockDevice(SafeDeviceHandle handle, string path, Geometry geometry, LinuxBlockDeviceOptions options, ILogger logger)
    {
        _handle = handle;
        _logger = logger;
        Name = path;
        Length = geometry.Length;
        LogicalSectorSize = geometry.LogicalSectorSize;
        PhysicalSectorSize = geometry.PhysicalSectorSize;
        IsBlockDevice = geometry.IsBlockDevice;
        IsDirectIO = geometry.IsBlockDevice && options.DirectIO;
        MemoryAlignment = IsDirectIO ? geometry.MemoryAlignment : 1;
        _memoryAlignment = MemoryAlignment;
        _ioAlignment = IsDirectIO ? LogicalSectorSize : 1;
        IsReadOnly = options.ReadOnly || (!options.DryRun && geometry.IsReadOnly);
        DiscardZeroesData = geometry.DiscardZeroesData;
        _canDiscard = geometry.CanDiscard;
        _punchHoleSupported = !geometry.IsBlockDevice && geometry.CanDiscard;
        _isWholeDisk = geometry.IsWholeDisk;
        _rereadOnDispose = options.RereadPartitionTableOnDispose;
        DryRun = options.DryRun ? new DryRunReport(path) : null;
        _bounce = new AlignedBufferPool(BounceBufferSize);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public long Length { get; }

    /// <inheritdoc />
    public int LogicalSectorSize { get; }

    /// <inheritdoc />
    public int PhysicalSectorSize { get; }

    /// <inheritdoc />
    public int MemoryAlignment { get; }

    /// <inheritdoc />
    public bool IsReadOnly { get; }

    /// <inheritdoc />
    public bool CanDiscard => _canDiscard;

    /// <inheritdoc />
    /// <remarks>Always available: where the kernel or file system cannot zero a range itself, zeros are written.</remarks>
    public bool CanZeroRange => true;

    /// <inheritdoc />
    public bool DiscardZeroesData { get; }

    /// <summary>Gets a value indicating whether the target is a block device (<see langword="false"/>: a regular image file).</summary>
    public bool IsBlockDevice { get; }

    /// <summary>Gets a value indicating whether transfers bypass the page cache (O_DIRECT).</summary>
    public bool IsDirectIO { get; }

    /// <summary>Gets what a dry run would have written, or <see langword="null"/> when this is not a dry run.</summary>
    public DryRunReport? DryRun { get; }

    /// <summary>
    /// Opens a block device or an existing image file. For writing (the default), the target is first checked
    /// against a fresh device snapshot and refused, with every reason named, when it is mounted, held by
    /// device-mapper, md or LVM, holds the running root filesystem, is read-only, or is smaller than
    /// <see cref="LinuxBlockDeviceOptions.MinimumLength"/>.
    /// </summary>
    /// <param name="path">The device node (<c>/dev/sdb</c>, a <c>/dev/disk/by-id/…</c> link) or image file.</param>
    /// <param name="options">How to open it, or <see langword="null"/> for <see cref="LinuxBlockDeviceOptions.Default"/>.</param>
    /// <param name="logger">A logger, or <see langword="null"/>.</param>
    /// <returns>The open device.</returns>
    /// <exception cref="DeviceSafetyException">The target was refused; nothing was written.</exception>
    /// <exception cref="BlockDeviceIOException">A system call failed (the path does not exist, access denied, an ioctl failed).</exception>
    public static LinuxBlockDevice Open(string path, LinuxBlockDeviceOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= LinuxBlockDeviceOptions.Default;
        options.Validate();
        logger ??= NullLogger.Instance;

        if (Interop.Libc.StatX(Interop.Libc.AT_FDCWD, path, 0, Interop.Libc.STATX_BASIC_STATS, out var stat) != 0)
        {
            DeviceErrors.Throw(path, "statx", null, Marshal.GetLastPInvokeError());
        }

        int type = stat.Mode & Interop.Libc.S_IFMT;
        if (type == Interop.Libc.S_IFREG)
        {
            return OpenFile(path, options, logger, create: false, length: 0);
        }

        if (type != Interop.Libc.S_IFBLK)
        {
            throw new DeviceSafetyException(path, DeviceRefusalReason.NotABlockDevice, "it is neither a block device nor a regular image file.");
        }

        bool writes = !options.ReadOnly;
        if (writes)
        {
            var snapshot = LinuxBlockDevices.Enumerate();
            var (device, partition) = LinuxBlockDevices.Find(snapshot, path);
            if (device is null)
            {
                throw new DeviceSafetyException(path, DeviceRefusalReason.NotABlockDevice, "it is not listed in /sys/block, so its mounts and holders cannot be checked.");
            }

            var refusals = partition is null ? LinuxDeviceSafety.Evaluate(device, options.MinimumLength) : LinuxDeviceSafety.Evaluate(partition, options.MinimumLength);
            LinuxDeviceSafety.ThrowIfRefused(path, refusals, options.Force);
            if (refusals.Count > 0)
            {
                Log.Forced(logger, path, string.Join("; ", refusals.Select(r => r.Detail)));
            }
        }

        // A dry run opens read-only but still claims the device exclusively, so it meets the refusal a real run would.
        int flags = (writes && !options.DryRun ? Interop.Libc.O_RDWR : Interop.Libc.O_RDONLY) | Interop.Libc.O_CLOEXEC;
        if (options.DirectIO)
        {
            flags |= Interop.Libc.O_DIRECT;
        }

        bool exclusive = writes && !options.Force;
        if (exclusive)
        {
            flags |= Interop.Libc.O_EXCL;
        }

        var handle = OpenHandle(path, flags);
        try
        {
            var geometry = ReadBlockGeometry(handle, path, stat);
            if (writes && geometry.IsReadOnly)
            {
                throw new DeviceSafetyException(path, DeviceRefusalReason.ReadOnly, "the kernel reports the device read-only (BLKROGET).");
            }

            if (writes && options.MinimumLength is long needed && geometry.Length < needed)
            {
                throw new DeviceSafetyException(path, DeviceRefusalReason.TooSmall, string.Create(CultureInfo.InvariantCulture, $"it holds {geometry.Length} bytes (BLKGETSIZE64) but the image needs {needed}."));
            }

            var device = new LinuxBlockDevice(handle, path, geometry, options, logger);
            device.LogOpened("block device");
            return device;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates (or truncates) a sparse image file of exactly <paramref name="length"/> bytes and opens it for writing.
    /// Nothing is allocated on disk until written; zero ranges stay holes.
    /// </summary>
    /// <param name="path">The file to create.</param>
    /// <param name="length">Its length, usually the image length.</param>
    /// <param name="logger">A logger, or <see langword="null"/>.</param>
    /// <returns>The open file device.</returns>
    /// <exception cref="BlockDeviceIOException">The file could not be created or sized.</exception>
    public static LinuxBlockDevice CreateImageFile(string path, long length, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return OpenFile(path, LinuxBlockDeviceOptions.Default, logger ?? NullLogger.Instance, create: true, length);
    }

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        int count = (int)Math.Min(buffer.Length, Length - offset);
        if (count == 0)
        {
            return new ValueTask<int>(0);
        }

        return new ValueTask<int>(Task.Factory.StartNew(
            static state =>
            {
                var (device, offset, buffer) = ((LinuxBlockDevice, long, Memory<byte>))state!;
                device.ReadCore(offset, buffer.Span);
                return buffer.Length;
            },
            (this, offset, buffer[..count]),
            cancellationToken,
            TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default));
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        return Change(new PendingChange(this, ChangeKind.Write, offset, data.Length, data, null, cancellationToken));
    }

    /// <summary>
    /// Writes several buffers back to back starting at <paramref name="offset"/>. When the offset and every buffer are
    /// aligned, this is one pwritev per 1024 buffers, straight from the buffers' memory.
    /// </summary>
    /// <param name="offset">The device offset of the first byte of the first buffer.</param>
    /// <param name="buffers">The buffers, in device order.</param>
    /// <param name="cancellationToken">Cancels the write before it starts.</param>
    /// <returns>A task that completes when every buffer has been accepted.</returns>
    public ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        long total = 0;
        for (int i = 0; i < buffers.Count; i++)
        {
            total += buffers[i].Length;
        }

        return Change(new PendingChange(this, ChangeKind.Gather, offset, total, default, buffers, cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (DryRun is not null || IsReadOnly)
        {
            return default;
        }

        return new ValueTask(Task.Factory.StartNew(static state => ((LinuxBlockDevice)state!).FlushCore(), this, cancellationToken, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default));
    }

    /// <inheritdoc />
    /// <remarks>
    /// On a block device only the whole logical sectors inside the range are discarded (BLKDISCARD works in sectors).
    /// On an image file the range becomes a hole. When the device turns out not to support discard, the call
    /// becomes a no-op and <see cref="CanDiscard"/> turns <see langword="false"/>: a discard is a hint, and
    /// <see cref="DiscardZeroesData"/> never promised zeros on a block device.
    /// </remarks>
    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        if (!CanDiscard)
        {
            throw new NotSupportedException($"'{Name}' does not support discard.");
        }

        return Change(new PendingChange(this, ChangeKind.Discard, offset, length, default, null, cancellationToken));
    }

    /// <inheritdoc />
    /// <remarks>
    /// A block device zeroes whole sectors with BLKZEROOUT (the kernel uses the device's write-zeroes command or writes
    /// zero pages itself) and partial sectors at the ends with a read-modify-write. An image file punches a hole, so it
    /// stays sparse. Where neither is supported, zeros are written.
    /// </remarks>
    public ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        return Change(new PendingChange(this, ChangeKind.ZeroRange, offset, length, default, null, cancellationToken));
    }

    /// <summary>Asks the kernel to re-read the partition table (BLKRRPART) so that partitions written by an image appear.</summary>
    /// <exception cref="InvalidOperationException">The target is an image file or a partition.</exception>
    /// <exception cref="BlockDeviceIOException">The kernel refused (EBUSY: a partition is in use; EINVAL: the device does not support partitions).</exception>
    public void RereadPartitionTable()
    {
        ThrowIfDisposed();
        if (!_isWholeDisk)
        {
            throw new InvalidOperationException($"'{Name}' is not a whole block device, so it has no partition table to re-read.");
        }

        int error = TryRereadPartitionTable();
        if (error != 0)
        {
            DeviceErrors.Throw(Name, "ioctl(BLKRRPART)", null, error);
        }

        Log.PartitionTableReread(_logger, Name);
    }

    /// <summary>
    /// Flushes what was written, re-reads the partition table of a written whole disk (when
    /// <see cref="LinuxBlockDeviceOptions.RereadPartitionTableOnDispose"/>), and closes the device.
    /// </summary>
    /// <returns>A task that completes when the device is closed.</returns>
    /// <exception cref="BlockDeviceIOException">The final flush failed: the data may not be durable. The device is closed anyway.</exception>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (DryRun is not null)
            {
                Log.DryRunSummary(_logger, DryRun.ToString());
            }
            else if (Volatile.Read(ref _written) != 0)
            {
                await Task.Factory.StartNew(static state => ((LinuxBlockDevice)state!).FlushCore(), this, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default).ConfigureAwait(false);
                if (_isWholeDisk && _rereadOnDispose)
                {
                    LogReread(TryRereadPartitionTable());
                }
            }
        }
        finally
        {
            _handle.Dispose();
            _bounce.Dispose();
        }
    }

    /// <summary>Gets how many reads and writes went straight between the caller's memory and the device.</summary>
    internal long DirectTransfers => Interlocked.Read(ref _directTransfers);

    /// <summary>Gets how many reads and writes went through a bounce buffer (unaligned offset, length or memory).</summary>
    internal long BouncedTransfers => Interlocked.Read(ref _bouncedTransfers);

    /// <summary>Reads the number of 512-byte blocks a file occupies on disk (statx <c>stx_blocks</c>), to see whether it is sparse.</summary>
    internal long AllocatedBytes()
    {
        var stat = StatHandle(_handle, Name);
        return (long)stat.Blocks * 512;
    }

    private static LinuxBlockDevice OpenFile(string path, LinuxBlockDeviceOptions options, ILogger logger, bool create, long length)
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
    private ValueTask Change(PendingChange change)
    {
        ThrowIfNotWritable(change.Offset, change.Length);
        if (change.CancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(change.CancellationToken);
        }

        if (change.Length == 0)
        {
            return default;
        }

        if (DryRun is not null)
        {
            DryRun.Record(change.Offset, change.Length, change.Kind switch
            {
                ChangeKind.ZeroRange => DryRunOperation.ZeroRange,
                ChangeKind.Discard => DryRunOperation.Discard,
                _ => DryRunOperation.Write,
            });
            return default;
        }

        return new ValueTask(Task.Factory.StartNew(static state => ((PendingChange)state!).Run(), change, change.CancellationToken, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default));
    }

    private void LogOpened(string kind) =>
        Log.Opened(_logger, Name, kind, Length, LogicalSectorSize, PhysicalSectorSize, MemoryAlignment, IsDirectIO, IsReadOnly, CanDiscard, DryRun is not null);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private void ThrowIfNotWritable(long offset, long length)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, string.Create(CultureInfo.InvariantCulture, $"The range [{offset}, {offset + length}) reaches outside '{Name}', which holds {Length} bytes."));
        }

        if (IsReadOnly)
        {
            throw new InvalidOperationException($"'{Name}' was opened read-only.");
        }
    }

    private enum ChangeKind
    {
        Write,
        Gather,
        ZeroRange,
        Discard,
    }

    private sealed record PendingChange(LinuxBlockDevice Device, ChangeKind Kind, long Offset, long Length, ReadOnlyMemory<byte> Data, IReadOnlyList<ReadOnlyMemory<byte>>? Buffers, CancellationToken CancellationToken)
    {
        public void Run()
        {
            switch (Kind)
            {
                case ChangeKind.Write: Device.WriteCore(Offset, Data.Span); break;
                case ChangeKind.Gather: Device.WriteGatherCore(Offset, Buffers!); break;
                case ChangeKind.ZeroRange: Device.ZeroRangeCore(Offset, Length, CancellationToken); break;
                default: Device.DiscardCore(Offset, Length, CancellationToken); break;
            }
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
