using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Devices;

/// <summary>
/// A dry run over any <see cref="IBlockDevice"/>: reads go to the device, and every write, zero range and discard
/// is checked as the device would check it, then recorded in <see cref="Report"/> instead of done. Nothing reaches
/// the device.
/// </summary>
/// <remarks>
/// <para>
/// The device is usually opened read-only after the checks a real run's open makes (a Linux device opened with
/// <c>LinuxBlockDeviceOptions.DryRun</c>, a Windows disk after <c>WindowsBlockDevice.PlanAsync</c>, an image file
/// with <see cref="FileBlockDeviceOptions.ReadOnly"/>), so every platform gets the same dry run. Its geometry and
/// powers (<see cref="CanDiscard"/>, <see cref="CanZeroRange"/>, <see cref="IsKnownZeroed"/>) are the device's, so
/// a writer makes the choices it would make on it; reads return the device's real contents, not what the dry run
/// would have written.
/// </para>
/// <para>Disposing logs the report and disposes the device.</para>
/// </remarks>
public sealed class DryRunBlockDevice : IBlockDevice
{
    private readonly IBlockDevice _device;
    private readonly ILogger _logger;
    private int _disposed;

    /// <summary>Initializes a new dry run over <paramref name="device"/>, which it then owns.</summary>
    /// <param name="device">The device writes would have gone to.</param>
    /// <param name="logger">Where the report goes on dispose, or <see langword="null"/>.</param>
    public DryRunBlockDevice(IBlockDevice device, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        _logger = logger ?? NullLogger.Instance;
        Report = new DryRunReport(device.Name);
    }

    /// <summary>Gets what the dry run would have written, zeroed and discarded so far.</summary>
    public DryRunReport Report { get; }

    /// <inheritdoc />
    public string Name => _device.Name;

    /// <inheritdoc />
    public long Length => _device.Length;

    /// <inheritdoc />
    public int LogicalSectorSize => _device.LogicalSectorSize;

    /// <inheritdoc />
    public int PhysicalSectorSize => _device.PhysicalSectorSize;

    /// <inheritdoc />
    public int MemoryAlignment => _device.MemoryAlignment;

    /// <inheritdoc />
    /// <value>Always <see langword="false"/>: a dry run accepts every write, and makes none.</value>
    public bool IsReadOnly => false;

    /// <inheritdoc />
    public bool CanDiscard => _device.CanDiscard;

    /// <inheritdoc />
    public bool IsKnownZeroed => _device.IsKnownZeroed;

    /// <inheritdoc />
    public bool CanZeroRange => _device.CanZeroRange;

    /// <inheritdoc />
    public bool DiscardZeroesData => _device.DiscardZeroesData;

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _device.ReadAsync(offset, buffer, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        Record(offset, data.Length, DryRunOperation.Write, cancellationToken);

    /// <inheritdoc />
    public ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        long total = DeviceRange.CheckGather(Name, Length, offset, buffers);
        return Record(offset, total, DryRunOperation.Write, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Nothing was written, so there is nothing to flush.</remarks>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled(cancellationToken) : default;
    }

    /// <inheritdoc />
    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        if (!CanDiscard)
        {
            throw new NotSupportedException($"'{Name}' does not support discard.");
        }

        return Record(offset, length, DryRunOperation.Discard, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        if (!CanZeroRange)
        {
            throw new NotSupportedException($"'{Name}' does not support zeroing a range.");
        }

        return Record(offset, length, DryRunOperation.ZeroRange, cancellationToken);
    }

    /// <summary>Logs the report and disposes the device.</summary>
    /// <returns>A task that completes when the device is disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Log.DryRunSummary(_logger, Report.ToString());
        await _device.DisposeAsync().ConfigureAwait(false);
    }

    private ValueTask Record(long offset, long length, DryRunOperation operation, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        DeviceRange.Check(Name, Length, offset, length);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        Report.Record(offset, length, operation);
        return default;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
