using System.Buffers;
using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

/// <summary>
/// Native memory aligned for unbuffered I/O, exposed as <see cref="Memory{T}"/>. Used for bounce buffers and the
/// zero buffer; freed on dispose. Pinning is free: the memory never moves.
/// </summary>
internal sealed unsafe class AlignedBuffer : MemoryManager<byte>
{
    private readonly int _length;
    private byte* _pointer;

    internal AlignedBuffer(int length, int alignment)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a power of two.");
        }

        _length = length;
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)length, (nuint)alignment);
        new Span<byte>(_pointer, length).Clear();
    }

    /// <summary>Gets the address of the first byte.</summary>
    internal nuint Address => (nuint)_pointer;

    /// <inheritdoc />
    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        return new Span<byte>(_pointer, _length);
    }

    /// <inheritdoc />
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        return new MemoryHandle(_pointer + elementIndex);
    }

    /// <inheritdoc />
    public override void Unpin()
    {
        // Native memory never moves; there is nothing to release.
    }

    /// <summary>Frees the memory.</summary>
    public void Dispose() => ((IDisposable)this).Dispose();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (_pointer is not null)
        {
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
    }
}
