using System.Diagnostics.CodeAnalysis;
namespace BlockTorrent.Devices;

/// <summary>
/// An <see cref="IBlockDevice"/> held in memory: for tests (any geometry and set of powers, see
/// <see cref="MemoryBlockDeviceOptions"/>) and for embedding (an image assembled in memory).
/// </summary>
/// <remarks>
/// Requests outside <c>[0, Length)</c> throw <see cref="ArgumentOutOfRangeException"/> before touching anything.
/// Concurrent calls on disjoint ranges are safe. <see cref="WriteCount"/> and <see cref="BytesWritten"/> count what
/// reached the device, so a test can prove that something was not written.
/// </remarks>
public sealed class MemoryBlockDevice : IBlockDevice
{
    private readonly byte[] _data;
    private readonly MemoryBlockDeviceOptions _options;
    private long _writeCount;
    private long _bytesWritten;

    /// <summary>Initializes a new instance of <paramref name="length"/> zero bytes.</summary>
    /// <param name="length">The device length; at most <see cref="Array.MaxLength"/>.</param>
    /// <param name="options">The geometry and powers; <see langword="null"/> for <see cref="MemoryBlockDeviceOptions.Default"/>.</param>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ in the type of a required parameter, so no call is ambiguous.")]
    public MemoryBlockDevice(long length, MemoryBlockDeviceOptions? options = null)
        : this(new byte[CheckLength(length)], options)
    {
    }

    /// <summary>Initializes a new instance over <paramref name="contents"/>, which the device then owns and changes in place.</summary>
    /// <param name="contents">The device's bytes; not copied.</param>
    /// <param name="options">The geometry and powers; <see langword="null"/> for <see cref="MemoryBlockDeviceOptions.Default"/>.</param>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ in the type of a required parameter, so no call is ambiguous.")]
    public MemoryBlockDevice(byte[] contents, MemoryBlockDeviceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(contents);
        options ??= MemoryBlockDeviceOptions.Default;
        options.Validate();
        _data = contents;
        _options = options;
    }

    /// <inheritdoc />
    public string Name => _options.Name;

    /// <inheritdoc />
    public long Length => _data.Length;

    /// <inheritdoc />
    public int LogicalSectorSize => _options.LogicalSectorSize;

    /// <inheritdoc />
    public int PhysicalSectorSize => _options.PhysicalSectorSize;

    /// <inheritdoc />
    public int MemoryAlignment => _options.MemoryAlignment;

    /// <inheritdoc />
    public bool IsReadOnly => _options.ReadOnly;

    /// <inheritdoc />
    public bool CanDiscard => _options.CanDiscard && !_options.ReadOnly;

    /// <inheritdoc />
    public bool CanZeroRange => _options.CanZeroRange && !_options.ReadOnly;

    /// <inheritdoc />
    public bool DiscardZeroesData => _options.DiscardZeroesData;

    /// <summary>Gets the device's bytes, for inspection.</summary>
    public ReadOnlyMemory<byte> Contents => _data;

    /// <summary>Gets the number of write calls that changed the device (gathered writes count once).</summary>
    public long WriteCount => Interlocked.Read(ref _writeCount);

    /// <summary>Gets the number of bytes written as data (zeroed and discarded ranges excluded).</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int length = DeviceRange.ClampRead(Name, Length, offset, buffer.Length);
        cancellationToken.ThrowIfCancellationRequested();
        _data.AsSpan((int)offset, length).CopyTo(buffer.Span);
        return ValueTask.FromResult(length);
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly();
        DeviceRange.Check(Name, Length, offset, data.Length);
        cancellationToken.ThrowIfCancellationRequested();
        data.Span.CopyTo(_data.AsSpan((int)offset));
        Interlocked.Increment(ref _writeCount);
        Interlocked.Add(ref _bytesWritten, data.Length);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        ThrowIfReadOnly();

        // Checked as a whole first: a gathered write that reaches outside the device writes none of its buffers.
        long total = DeviceRange.CheckGather(Name, Length, offset, buffers);
        cancellationToken.ThrowIfCancellationRequested();
        long position = offset;
        for (int i = 0; i < buffers.Count; i++)
        {
            buffers[i].Span.CopyTo(_data.AsSpan((int)position));
            position += buffers[i].Length;
        }

        Interlocked.Increment(ref _writeCount);
        Interlocked.Add(ref _bytesWritten, total);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default) =>
        Fill(CanDiscard, "discard", offset, length, _options.DiscardZeroesData ? (byte)0 : _options.DiscardFill, cancellationToken);

    /// <inheritdoc />
    public ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default) =>
        Fill(CanZeroRange, "zeroing a range", offset, length, 0, cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static int CheckLength(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Array.MaxLength);
        return (int)length;
    }

    private ValueTask Fill(bool supported, string power, long offset, long length, byte value, CancellationToken cancellationToken)
    {
        if (!supported)
        {
            throw new NotSupportedException($"'{Name}' does not support {power}.");
        }

        DeviceRange.Check(Name, Length, offset, length);
        cancellationToken.ThrowIfCancellationRequested();
        _data.AsSpan((int)offset, (int)length).Fill(value);
        return ValueTask.CompletedTask;
    }

    private void ThrowIfReadOnly()
    {
        if (IsReadOnly)
        {
            throw new NotSupportedException($"'{Name}' is read-only.");
        }
    }
}
