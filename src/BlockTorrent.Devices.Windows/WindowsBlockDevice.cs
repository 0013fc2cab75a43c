using System.Buffers;
using System.Runtime.Versioning;
using BlockTorrent.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using static BlockTorrent.Devices.Windows.Interop.Errors;
using static BlockTorrent.Devices.Windows.Interop.Kernel32;

namespace BlockTorrent.Devices.Windows;

/// <summary>
/// A Windows physical disk (<c>\\.\PhysicalDriveN</c>) as an <see cref="IBlockDevice"/>: unbuffered, write-through,
/// positional asynchronous I/O. Opening for writing refuses unsafe disks (the running system's, read-only,
/// offline or too small ones) and locks and dismounts every volume on the disk; disposing flushes the disk, asks
/// Windows to re-read its partition table and releases the volumes.
/// </summary>
/// <remarks>
/// Aligned requests (offset and length multiples of <see cref="LogicalSectorSize"/>, memory aligned to
/// <see cref="MemoryAlignment"/>) go straight to the disk. Others go through a sector-aligned bounce buffer, with
/// a read-modify-write of partly covered sectors; those are serialized, so two unaligned writes that share a
/// sector never lose each other's bytes.
/// </remarks>
[SupportedOSPlatform("windows")]
public sealed class WindowsBlockDevice : IBlockDevice
{
    // The largest single unbuffered transfer: some storage drivers fail far larger ones with ERROR_NO_SYSTEM_RESOURCES.
    private const int MaxTransferLength = 8 << 20;
    private const int BounceLength = 1 << 20;

    private readonly SafeFileHandle _data;
    private readonly SafeFileHandle _control;
    private readonly VolumeLockSet? _volumeLocks;
    private readonly WindowsBlockDeviceOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _bounceGate = new(1, 1);
    private readonly AlignedBuffer _bounce;
    private int _written;
    private int _disposed;

    private WindowsBlockDevice(WindowsDisk disk, SafeFileHandle data, SafeFileHandle control, VolumeLockSet? volumeLocks, WindowsBlockDeviceOptions options, ILogger logger)
    {
        Disk = disk;
        _data = data;
        _control = control;
        _volumeLocks = volumeLocks;
        _options = options;
        _logger = logger;
        _bounce = new AlignedBuffer(BounceLength);
    }

    /// <summary>Gets the disk as it was when the device was opened.</summary>
    public WindowsDisk Disk { get; }

    /// <inheritdoc />
    public string Name => Disk.Path;

    /// <inheritdoc />
    public long Length => Disk.Length;

    /// <inheritdoc />
    public int LogicalSectorSize => Disk.LogicalSectorSize;

    /// <inheritdoc />
    public int PhysicalSectorSize => Disk.PhysicalSectorSize;

    /// <summary>
    /// Gets the buffer alignment of the fast path: 4096 bytes (a page). FILE_FLAG_NO_BUFFERING needs the storage
    /// adapter's alignment, which no disk Windows supports sets above a page.
    /// </summary>
    public int MemoryAlignment => AlignedBuffer.Alignment;

    /// <inheritdoc />
    public bool IsReadOnly => _options.ReadOnly;

    /// <inheritdoc />
    public bool CanDiscard => !IsReadOnly && Disk.SupportsTrim;

    /// <summary>Gets a value indicating whether <see cref="ZeroRangeAsync"/> is available: always, on a writable device (it trims or writes zeros).</summary>
    public bool CanZeroRange => !IsReadOnly;

    /// <summary>
    /// Gets <see langword="false"/>: a trim is a hint the disk may ignore in part, so <see cref="DiscardAsync"/>
    /// promises nothing. <see cref="ZeroRangeAsync"/> is the call that guarantees zeros (it trims only whole
    /// units of a disk that promises zeros after a trim, and writes the rest).
    /// </summary>
    public bool DiscardZeroesData => false;

    /// <summary>Returns whether <paramref name="path"/> names a physical disk (<c>\\.\PhysicalDriveN</c>) this device opens.</summary>
    /// <param name="path">The path.</param>
    /// <returns><see langword="true"/> for a physical disk path.</returns>
    public static bool IsPhysicalDrivePath(string? path) => PhysicalDrivePath.IsPhysicalDrivePath(path);

    /// <summary>
    /// Opens a physical disk. For writing, the disk must pass the safety checks and every volume on it is locked
    /// and dismounted before this returns; nothing is written.
    /// </summary>
    /// <param name="path">The disk, <c>\\.\PhysicalDriveN</c>.</param>
    /// <param name="options">How to open it; <see langword="null"/> for the defaults (write, no minimum size, no forced dismount).</param>
    /// <param name="logger">Receives what the device does; <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the open (waits between volume lock attempts observe it).</param>
    /// <returns>The open device; dispose it to flush, re-read the partition table and release the volumes.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not a physical disk path.</exception>
    /// <exception cref="DeviceSafetyException">The disk is refused: nothing was written, no volume stays locked.</exception>
    /// <exception cref="BlockDeviceIOException">A system call failed (for example, the process is not elevated).</exception>
    public static async Task<WindowsBlockDevice> OpenAsync(string path, WindowsBlockDeviceOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        int number = ParsePath(path);
        options ??= new WindowsBlockDeviceOptions();
        options.Validate();
        logger ??= NullLogger.Instance;
        string name = PhysicalDrivePath.Format(number);

        // Describe and judge the disk through a read-only handle: nothing is opened for writing before the decision.
        WindowsDisk disk = await Task.Run(() => DescribeReadOnly(name, number), cancellationToken).ConfigureAwait(false);
        if (!options.ReadOnly)
        {
            WindowsDiskSafety.ThrowIfRefused(disk, options.MinimumLength);
        }

        uint access = options.ReadOnly ? GENERIC_READ : GENERIC_READ | GENERIC_WRITE;
        SafeFileHandle? control = null;
        SafeFileHandle? data = null;
        VolumeLockSet? volumeLocks = null;
        bool success = false;
        try
        {
            if (!options.ReadOnly)
            {
                volumeLocks = await VolumeLockSet.AcquireAsync(disk, options, logger, cancellationToken).ConfigureAwait(false);
            }

            // Two handles: DeviceIoControl without an OVERLAPPED needs a synchronous one, RandomAccess an overlapped one.
            control = WindowsDiskProbe.Open(name, access, FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH);
            data = WindowsDiskProbe.Open(name, access, FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH | FILE_FLAG_OVERLAPPED);
            var device = new WindowsBlockDevice(disk, data, control, volumeLocks, options, logger);
            Log.Opened(logger, name, disk.Model, disk.Length, disk.LogicalSectorSize, disk.PhysicalSectorSize, disk.SupportsTrim, options.ReadOnly ? "reading" : "writing");
            success = true;
            return device;
        }
        finally
        {
            if (!success)
            {
                data?.Dispose();
                control?.Dispose();
                volumeLocks?.Dispose();
            }
        }
    }

    /// <summary>
    /// A dry run of <see cref="OpenAsync"/>: describes the disk, the safety decision, the volumes that would be
    /// dismounted and how zeros would be written. Opens the disk read-only and changes nothing.
    /// </summary>
    /// <param name="path">The disk, <c>\\.\PhysicalDriveN</c>.</param>
    /// <param name="options">The options <see cref="OpenAsync"/> would get.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The plan.</returns>
    public static async Task<WindowsDiskPlan> PlanAsync(string path, WindowsBlockDeviceOptions? options = null, CancellationToken cancellationToken = default)
    {
        int number = ParsePath(path);
        options ??= new WindowsBlockDeviceOptions();
        options.Validate();
        WindowsDisk disk = await Task.Run(() => DescribeReadOnly(PhysicalDrivePath.Format(number), number), cancellationToken).ConfigureAwait(false);
        return WindowsDiskPlan.Create(disk, options);
    }

    /// <inheritdoc />
    public async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length);

        // Reads stop at the end of the disk, as the contract says; writes past it are refused instead.
        int count = (int)Math.Min(buffer.Length, Length - offset);
        if (count == 0)
        {
            return 0;
        }

        Memory<byte> target = buffer[..count];
        if (IsDirect(offset, target))
        {
            await ReadDirectAsync(offset, target, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await TransferBouncedAsync(offset, target, ReadOnlyMemory<byte>.Empty, isWrite: false, cancellationToken).ConfigureAwait(false);
        }

        return count;
    }

    /// <inheritdoc />
    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ThrowIfNotWritable();
        CheckRange(offset, data.Length);
        if (data.IsEmpty)
        {
            return;
        }

        Interlocked.Exchange(ref _written, 1);
        if (IsDirect(offset, data))
        {
            await WriteDirectAsync(offset, data, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await TransferBouncedAsync(offset, Memory<byte>.Empty, data, isWrite: true, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (IsReadOnly)
        {
            return;
        }

        await Task.Run(Flush, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        ThrowIfNotWritable();
        if (!CanDiscard)
        {
            throw new NotSupportedException($"{Name} does not support TRIM.");
        }

        CheckRange(offset, length);

        // A trim is a hint: only the whole sectors inside the range are named; partial ones keep their bytes.
        if (SectorMath.TryGetWholeUnits(offset, length, LogicalSectorSize, 0, out long start, out long end))
        {
            Interlocked.Exchange(ref _written, 1);
            await Task.Run(() => Trim(start, end - start), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        ThrowIfNotWritable();
        CheckRange(offset, length);
        if (length == 0)
        {
            return;
        }

        Interlocked.Exchange(ref _written, 1);
        if (_options.ZeroByTrim && Disk.TrimReadsZeros
            && SectorMath.TryGetWholeUnits(offset, length, Disk.TrimGranularity, Disk.TrimAlignment, out long start, out long end))
        {
            // Only whole unmap units are sure to be unmapped, so only they are trimmed; the edges are written.
            await WriteZerosAsync(offset, start - offset, cancellationToken).ConfigureAwait(false);
            await Task.Run(() => Trim(start, end - start), cancellationToken).ConfigureAwait(false);
            await WriteZerosAsync(end, offset + length - end, cancellationToken).ConfigureAwait(false);
            return;
        }

        await WriteZerosAsync(offset, length, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!IsReadOnly && Volatile.Read(ref _written) != 0 && _options.RereadPartitionTableOnDispose)
            {
                await Task.Run(FlushAndUpdateProperties).ConfigureAwait(false);
            }
        }
        finally
        {
            // The volumes are released last: Windows may mount what the disk now holds as soon as they are.
            _data.Dispose();
            _control.Dispose();
            _volumeLocks?.Dispose();
            ((IDisposable)_bounce).Dispose();
            _bounceGate.Dispose();
        }
    }

    private static int ParsePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!PhysicalDrivePath.TryGetDiskNumber(path, out int number))
        {
            throw new ArgumentException($"'{path}' is not a Windows physical disk path (\\\\.\\PhysicalDriveN).", nameof(path));
        }

        return number;
    }

    private static WindowsDisk DescribeReadOnly(string name, int number)
    {
        using SafeFileHandle probe = WindowsDiskProbe.Open(name, GENERIC_READ, 0);
        return WindowsDiskProbe.Describe(probe, number);
    }

    private unsafe bool IsDirect(long offset, ReadOnlyMemory<byte> memory)
    {
        using MemoryHandle pin = memory.Pin();
        return SectorMath.IsDirect(offset, memory.Length, (nuint)pin.Pointer, LogicalSectorSize, MemoryAlignment);
    }

    private void ThrowIfNotWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (IsReadOnly)
        {
            throw new NotSupportedException($"{Name} was opened read-only.");
        }
    }

    private void CheckRange(long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > Length || length > Length - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The range [{offset}, {offset + length}) reaches outside {Name}, which holds {Length} bytes.");
        }
    }

    private async ValueTask ReadDirectAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            Memory<byte> chunk = buffer[..Math.Min(buffer.Length, MaxTransferLength)];
            int read;
            try
            {
                read = await RandomAccess.ReadAsync(_data, chunk, offset, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw Win32Error.Wrap(Name, "ReadFile", offset, exception);
            }

            if (read <= 0)
            {
                throw Win32Error.Create(Name, "ReadFile", offset, ERROR_HANDLE_EOF);
            }

            buffer = buffer[read..];
            offset += read;
        }
    }

    private async ValueTask WriteDirectAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            ReadOnlyMemory<byte> chunk = data[..Math.Min(data.Length, MaxTransferLength)];
            try
            {
                await RandomAccess.WriteAsync(_data, chunk, offset, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw Win32Error.Wrap(Name, "WriteFile", offset, exception);
            }

            data = data[chunk.Length..];
            offset += chunk.Length;
        }
    }

    private async ValueTask TransferBouncedAsync(long offset, Memory<byte> readInto, ReadOnlyMemory<byte> writeFrom, bool isWrite, CancellationToken cancellationToken)
    {
        // One bounce buffer per device: unaligned requests are rare (the engine sends aligned pieces) and
        // serializing them also keeps two read-modify-writes of one sector from losing each other's bytes.
        await _bounceGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (isWrite)
            {
                await BounceTransfer.WriteAsync(ReadDirectAsync, WriteDirectAsync, _bounce.Memory, LogicalSectorSize, offset, writeFrom, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await BounceTransfer.ReadAsync(ReadDirectAsync, _bounce.Memory, LogicalSectorSize, offset, readInto, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _bounceGate.Release();
        }
    }

    private async ValueTask WriteZerosAsync(long offset, long length, CancellationToken cancellationToken)
    {
        if (length == 0)
        {
            return;
        }

        ReadOnlyMemory<byte> zeros = ZeroBuffer.Memory;
        int sector = LogicalSectorSize;
        long end = offset + length;
        long alignedStart = SectorMath.AlignUp(offset, sector);
        long alignedEnd = SectorMath.AlignDown(end, sector);
        if (alignedStart >= alignedEnd)
        {
            await WriteAsync(offset, zeros[..(int)length], cancellationToken).ConfigureAwait(false);
            return;
        }

        if (offset < alignedStart)
        {
            await WriteAsync(offset, zeros[..(int)(alignedStart - offset)], cancellationToken).ConfigureAwait(false);
        }

        for (long position = alignedStart; position < alignedEnd; position += ZeroBuffer.Length)
        {
            int count = (int)Math.Min(ZeroBuffer.Length, alignedEnd - position);
            await WriteDirectAsync(position, zeros[..count], cancellationToken).ConfigureAwait(false);
        }

        if (alignedEnd < end)
        {
            await WriteAsync(alignedEnd, zeros[..(int)(end - alignedEnd)], cancellationToken).ConfigureAwait(false);
        }
    }

    private void Trim(long offset, long length)
    {
        foreach (byte[] request in DsmTrim.BuildRequests(offset, length))
        {
            WindowsDiskProbe.Control(_control, Name, IOCTL_STORAGE_MANAGE_DATA_SET_ATTRIBUTES, nameof(IOCTL_STORAGE_MANAGE_DATA_SET_ATTRIBUTES), request, offset);
        }
    }

    private void Flush()
    {
        if (!FlushFileBuffers(_data))
        {
            Win32Error.ThrowLastError(Name, "FlushFileBuffers");
        }
    }

    private void FlushAndUpdateProperties()
    {
        Flush();
        WindowsDiskProbe.Control(_control, Name, IOCTL_DISK_UPDATE_PROPERTIES, nameof(IOCTL_DISK_UPDATE_PROPERTIES));
        Log.PartitionTableReread(_logger, Name);
    }
}
