using System.Buffers;
using System.Runtime.InteropServices;

namespace BlockTorrent.Buffers;

/// <summary>
/// A block of native memory aligned to <see cref="Alignment"/> bytes, exposed as <see cref="Memory{T}"/>, so a device
/// opened with O_DIRECT or FILE_FLAG_NO_BUFFERING can transfer it without a bounce copy.
/// </summary>
/// <remarks>
/// <para>
/// The memory is not moved by the GC, so pinning is free. It is freed exactly once, by <see cref="IDisposable.Dispose"/>;
/// owners (<see cref="AlignedBufferPool"/>) guarantee that no I/O is in flight on it by then.
/// </para>
/// <para>
/// On Linux a buffer is its own anonymous mapping (zero-filled by the kernel) advised to use transparent huge pages
/// (MADV_HUGEPAGE, which the kernel's default "madvise" mode requires): a 4 MiB piece buffer then takes two page faults
/// on first use instead of 1,024, and two TLB entries while it is hashed and written instead of 1,024. Every deployment
/// touches its writer's buffers for the first time, so where page faults are costly (virtual machines) small pages
/// cost the writer CPU it needs for hashing. Where the kernel has no huge page to give (THP off, fragmented memory, a
/// buffer under 2 MiB) the mapping simply uses small pages.
/// </para>
/// </remarks>
internal sealed unsafe class AlignedBuffer : MemoryManager<byte>
{
    /// <summary>The alignment of every buffer: the page size, which satisfies every sector size up to 4 KiB.</summary>
    public const int Alignment = 4096;

    private readonly int _length;
    private readonly nuint _allocation;
    private readonly bool _mapped;
    private byte* _pointer;

    /// <summary>Initializes a new instance, allocating <paramref name="length"/> bytes rounded up to <see cref="Alignment"/>.</summary>
    /// <param name="length">The usable length in bytes.</param>
    /// <param name="clear">Whether to zero the memory.</param>
    public AlignedBuffer(int length, bool clear = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        _length = length;
        _allocation = (nuint)RoundUp(length);
        if (OperatingSystem.IsLinux())
        {
            // Anonymous mappings are page-aligned and zero-filled, so clear needs nothing more.
            _pointer = Map(_allocation);
            _mapped = true;
        }
        else
        {
            _pointer = (byte*)NativeMemory.AlignedAlloc(_allocation, Alignment);
            if (clear)
            {
                NativeMemory.Clear(_pointer, _allocation);
            }
        }

        GC.AddMemoryPressure((long)_allocation);
    }

    /// <summary>Gets the usable length in bytes.</summary>
    public int Length => _length;

    /// <summary>Gets the start of the memory, for system calls that take a pointer.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public byte* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer is null, this);
            return _pointer;
        }
    }

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
        if (_mapped && OperatingSystem.IsLinux())
        {
            _ = Interop.Libc.MUnmap(pointer, _allocation);
        }
        else
        {
            NativeMemory.AlignedFree(pointer);
        }

        GC.RemoveMemoryPressure((long)_allocation);
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static byte* Map(nuint allocation)
    {
        void* pointer = Interop.Libc.MMap(null, allocation, Interop.Libc.PROT_READ_WRITE, Interop.Libc.MAP_PRIVATE_ANONYMOUS, -1, 0);
        if (pointer == (void*)-1)
        {
            throw new OutOfMemoryException($"Mapping {allocation} bytes for an aligned buffer failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        if (allocation >= Interop.Libc.HugePageSize)
        {
            // Advice only: without transparent huge pages (or with none free) the kernel keeps using small pages.
            _ = Interop.Libc.MAdvise(pointer, allocation, Interop.Libc.MADV_HUGEPAGE);
        }

        return (byte*)pointer;
    }
}
