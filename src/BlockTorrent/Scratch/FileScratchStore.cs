using System.Globalization;
using BlockTorrent.Devices;

namespace BlockTorrent.Scratch;

/// <summary>
/// An <see cref="IScratchStore"/> on disk: a temporary file, or a region of a device (a spare partition), cut into
/// slots of one piece length and reused through a free list. It never holds more than its slots.
/// </summary>
/// <remarks>
/// Thread-safe; reads and writes of different pieces run concurrently. A piece becomes visible to
/// <see cref="Contains"/> and <see cref="ReadAsync"/> only once its bytes are fully written.
/// </remarks>
public sealed class FileScratchStore : IScratchStore
{
    private readonly IBlockDevice _device;
    private readonly long _regionOffset;
    private readonly int _slotLength;
    private readonly bool _ownsDevice;
    private readonly string? _deleteOnDispose;
    private readonly ScratchSlots _slots;
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>Initializes a new instance over a region of a device.</summary>
    /// <param name="device">The device holding the region.</param>
    /// <param name="regionOffset">The start of the region.</param>
    /// <param name="regionLength">The length of the region; it holds <c>regionLength / slotLength</c> pieces.</param>
    /// <param name="slotLength">The largest piece stored (the piece length).</param>
    /// <param name="ownsDevice">Whether disposing the store disposes the device.</param>
    /// <exception cref="ArgumentOutOfRangeException">The region is outside the device, or holds no slot.</exception>
    public FileScratchStore(IBlockDevice device, long regionOffset, long regionLength, int slotLength, bool ownsDevice = false)
        : this(device, regionOffset, regionLength, slotLength, ownsDevice, deleteOnDispose: null)
    {
    }

    private FileScratchStore(IBlockDevice device, long regionOffset, long regionLength, int slotLength, bool ownsDevice, string? deleteOnDispose)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slotLength);
        DeviceRange.Check(device.Name, device.Length, regionOffset, regionLength);
        long slots = regionLength / slotLength;
        if (slots < 1 || slots > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(regionLength), regionLength, string.Create(CultureInfo.InvariantCulture, $"A scratch region must hold between 1 and {int.MaxValue} slots of {slotLength} bytes."));
        }

        if (device.IsReadOnly)
        {
            throw new ArgumentException($"'{device.Name}' is read-only and cannot hold scratch data.", nameof(device));
        }

        _device = device;
        _regionOffset = regionOffset;
        _slotLength = slotLength;
        _ownsDevice = ownsDevice;
        _deleteOnDispose = deleteOnDispose;
        _slots = new ScratchSlots((int)slots);
        Capacity = slots * slotLength;
    }

    /// <summary>
    /// Creates a store in a new file that is deleted when the store is disposed. The file is sparse: it takes disk
    /// space only for the slots used.
    /// </summary>
    /// <param name="path">The file to create; it must not exist.</param>
    /// <param name="capacity">The most bytes held; rounded down to whole slots, at least one.</param>
    /// <param name="slotLength">The largest piece stored (the piece length).</param>
    /// <returns>The store.</returns>
    public static FileScratchStore Create(string path, long capacity, int slotLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slotLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, slotLength);
        long length = capacity / slotLength * slotLength;
        FileBlockDevice device = FileBlockDevice.Create(path, length);
        return new FileScratchStore(device, 0, length, slotLength, ownsDevice: true, deleteOnDispose: device.Name);
    }

    /// <inheritdoc />
    public long Capacity { get; }

    /// <summary>Gets the number of slots (pieces held at most).</summary>
    public int SlotCount => (int)(Capacity / _slotLength);

    /// <inheritdoc />
    public long BytesUsed
    {
        get
        {
            lock (_lock)
            {
                return _slots.BytesUsed;
            }
        }
    }

    /// <inheritdoc />
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _slots.Count;
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The piece is longer than a slot.</exception>
    public async ValueTask<bool> TryStoreAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        if (data.Length > _slotLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Piece {piece} is {data.Length} bytes long; scratch slots hold {_slotLength}."), nameof(data));
        }

        int slot;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_slots.TryReserve(piece, data.Length, out slot))
            {
                return false;
            }
        }

        try
        {
            await _device.WriteAsync(SlotOffset(slot), data, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_lock)
            {
                _slots.Free(piece, onlyIfReady: false);
            }

            throw;
        }

        lock (_lock)
        {
            _slots.Publish(piece);
        }

        return true;
    }

    /// <inheritdoc />
    public bool Contains(int piece)
    {
        lock (_lock)
        {
            return _slots.TryGet(piece, out _, out _);
        }
    }

    /// <inheritdoc />
    public async ValueTask<int> ReadAsync(int piece, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        int slot, length;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_slots.TryGet(piece, out slot, out length))
            {
                throw new KeyNotFoundException(string.Create(CultureInfo.InvariantCulture, $"Piece {piece} is not stored."));
            }

            ScratchSlots.CheckDestination(piece, length, destination.Length);
            _slots.TryBeginRead(piece, out _, out _);
        }

        try
        {
            // A piece removed meanwhile keeps its slot until this read ends (ScratchSlots), so no store overwrites it.
            int read = await _device.ReadAsync(SlotOffset(slot), destination[..length], cancellationToken).ConfigureAwait(false);
            if (read != length)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture, $"Scratch '{_device.Name}' returned {read} of {length} bytes for piece {piece}."));
            }

            return length;
        }
        finally
        {
            lock (_lock)
            {
                _slots.EndRead(piece, slot);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> RemoveAsync(int piece, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return ValueTask.FromResult(_slots.Free(piece, onlyIfReady: true));
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        if (_ownsDevice)
        {
            await _device.DisposeAsync().ConfigureAwait(false);
        }

        if (_deleteOnDispose is not null)
        {
            File.Delete(_deleteOnDispose);
        }
    }

    private long SlotOffset(int slot) => _regionOffset + ((long)slot * _slotLength);
}
