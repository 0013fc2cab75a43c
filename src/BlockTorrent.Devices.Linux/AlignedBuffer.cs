using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Linux;

/// <summary>A block of native memory aligned for O_DIRECT transfers. Never moves, so it needs no pinning.</summary>
internal sealed unsafe class AlignedBuffer : IDisposable
{
    private byte* _pointer;

    public AlignedBuffer(int length, int alignment)
    {
        Length = length;
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)length, (nuint)alignment);
    }

    public int Length { get; }

    public byte* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer is null, this);
            return _pointer;
        }
    }

    public Span<byte> Span => new(Pointer, Length);

    public void Dispose()
    {
        byte* p = _pointer;
        _pointer = null;
        if (p is not null)
        {
            NativeMemory.AlignedFree(p);
        }
    }
}
