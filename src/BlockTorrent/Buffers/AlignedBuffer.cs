using System.Buffers;
using System.Runtime.InteropServices;

namespace BlockTorrent.Buffers;

/// <summary>
/// A block of native memory aligned to <see cref="Alignment"/> bytes, exposed as <see cref="Memory{T}"/>, so a device
/// opened with O_DIRECT or FILE_FLAG_NO_BUFFERING can transfer it without a bounce copy.
/// </summary>
/// <remarks>
/// The memory is not moved by the GC, so pinning is free. It is freed exactly once, by <see cref="IDisposable.Dispose"/>;
/// owners (<see cref="AlignedBufferPool"/>) guarantee that no I/O is in flight on it by then.
/// </remarks>
internal sealed unsafe class AlignedBuffer : MemoryManager<byte>
{
    /// <summary>The alignment of every buffer: the page size, which satisfies every sector size up to 4 KiB.</summary>
    public const int Alignment = 4096;

    private byte* _pointer;
    private readonly int _length;

    /// <summary>Initializes a new instance, allocating <paramref name="length"/> bytes rounded up to <see cref="Alignment"/>.</summary>
    /// <param name="length">The usable length in bytes.</param>
    /// <param name="clear">Whether to zero the memory.</param>
    public AlignedBuffer(int length, bool clear = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        _length = length;
        nuint allocation = (nuint)RoundUp(length);
        _pointer = (byte*)NativeMemory.AlignedAlloc(allocation, Alignment);
        if (clear)
        {
            NativeMemory.Clear(_pointer, allocation);
        }

        GC.AddMemoryPressure((long)allocation);
    }

    /// <summary>Gets the usable length in bytes.</summary>
    public int Length => _length;

    /// <summary>Rounds a length up to a multiple of <see cref="Alignment"/>.</summary>
    /// <param name="length">The length.</param>
    /// <returns>The rounded length.</returns>
    public static long RoundUp(long length) => (length + Alignment - 1) & ~(long)(Alignment - 1);

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
        // Native memory never moves: nothing to undo.
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        byte* pointer = _pointer;
        if (pointer is null)
        {
            return;
        }

        _pointer = null;
        NativeMemory.AlignedFree(pointer);
        GC.RemoveMemoryPressure(RoundUp(_length));
    }
}
