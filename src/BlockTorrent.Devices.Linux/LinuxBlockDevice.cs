using System.Globalization;
using System.Runtime.InteropServices;
using BlockTorrent.Buffers;
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
public sealed partial class LinuxBlockDevice : IBlockDevice
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
        IsReadOnly = options.ReadOnly || options.DryRun || geometry.IsReadOnly;
        DiscardZeroesData = geometry.DiscardZeroesData;
        _canDiscard = geometry.CanDiscard;
        _punchHoleSupported = !geometry.IsBlockDevice && geometry.CanDiscard;
        _isWholeDisk = geometry.IsWholeDisk;
        _rereadOnDispose = options.RereadPartitionTableOnDispose;
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

        var stat = StatPath(path);
        int type = stat.Mode & Interop.Libc.S_IFMT;
        if (type == Interop.Libc.S_IFREG)
        {
            return OpenFile(path, options, logger, create: false, length: 0, expected: stat);
        }

        if (type != Interop.Libc.S_IFBLK)
        {
            throw new DeviceSafetyException(path, DeviceRefusalReason.NotABlockDevice, "it is neither a block device nor a regular image file.");
        }

        return OpenBlockDevice(path, stat, options, logger);
    }

    /// <summary>
    /// Gets a value indicating whether a path names a regular file (links followed): an image file, as opposed to a
    /// device node, whatever folder it is in (a file under <c>/dev/shm</c> is a file).
    /// </summary>
    /// <param name="path">The path.</param>
    /// <returns><see langword="true"/> for an existing regular file; <see langword="false"/> for anything else, or a path that does not exist.</returns>
    public static bool IsRegularFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Interop.Libc.StatX(Interop.Libc.AT_FDCWD, path, 0, Interop.Libc.STATX_BASIC_STATS, out var stat) == 0
            && (stat.Mode & Interop.Libc.S_IFMT) == Interop.Libc.S_IFREG;
    }

    /// <summary>Reads a path's status, following links.</summary>
    internal static Interop.Libc.StatXBuffer StatPath(string path)
    {
        if (Interop.Libc.StatX(Interop.Libc.AT_FDCWD, path, 0, Interop.Libc.STATX_BASIC_STATS, out var stat) != 0)
        {
            DeviceErrors.Throw(path, "statx", null, Marshal.GetLastPInvokeError());
        }

        return stat;
    }

    /// <summary>
    /// Checks the block device <paramref name="stat"/> describes and opens <paramref name="path"/>, refusing it when the
    /// descriptor opened is not that device (the node was replaced between the check and the open).
    /// </summary>
    internal static LinuxBlockDevice OpenBlockDevice(string path, Interop.Libc.StatXBuffer stat, LinuxBlockDeviceOptions options, ILogger logger)
    {
        bool writes = !options.ReadOnly;
        if (writes)
        {
            // The device checked is the one the path named when it was looked at, by its number, not by a second look-up.
            var snapshot = LinuxBlockDevices.Enumerate();
            var (device, partition) = LinuxBlockDevices.Find(snapshot, FormattableString.Invariant($"{stat.RdevMajor}:{stat.RdevMinor}"), path);
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

        if (writes && options.Exclusive)
        {
            flags |= Interop.Libc.O_EXCL;
        }

        var handle = OpenHandle(path, flags);
        try
        {
            var opened = StatHandle(handle, path);
            if ((opened.Mode & Interop.Libc.S_IFMT) != Interop.Libc.S_IFBLK || opened.RdevMajor != stat.RdevMajor || opened.RdevMinor != stat.RdevMinor)
            {
                throw new DeviceSafetyException(path, DeviceRefusalReason.Replaced, FormattableString.Invariant($"the path was checked as device {stat.RdevMajor}:{stat.RdevMinor} but opened as {opened.RdevMajor}:{opened.RdevMinor}; it was replaced in between, and nothing was written."));
            }

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

        if (IsReadOnly)
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
            if (Volatile.Read(ref _written) != 0)
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

        return new ValueTask(Task.Factory.StartNew(static state => ((PendingChange)state!).Run(), change, change.CancellationToken, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default));
    }

    private void LogOpened(string kind) =>
        Log.Opened(_logger, Name, kind, Length, LogicalSectorSize, PhysicalSectorSize, MemoryAlignment, IsDirectIO, IsReadOnly, CanDiscard);

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
}
