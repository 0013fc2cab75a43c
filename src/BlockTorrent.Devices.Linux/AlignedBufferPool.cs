using System.Collections.Concurrent;

namespace BlockTorrent.Devices.Linux;

/// <summary>
/// Bounce buffers for transfers that cannot go straight from the caller's memory to the device. All buffers have
/// the same size; at most <c>capacity</c> are kept, so memory stays bounded however many calls run at once.
/// </summary>
internal sealed class AlignedBufferPool : IDisposable
{
    private readonly ConcurrentBag<AlignedBuffer> _free = [];
    private readonly int _capacity;
    private bool _disposed;

    public AlignedBufferPool(int bufferSize, int alignment, int capacity)
    {
        BufferSize = bufferSize;
        Alignment = alignment;
        _capacity = capacity;
    }

    public int BufferSize { get; }

    public int Alignment { get; }

    public AlignedBuffer Rent() => _free.TryTake(out var buffer) ? buffer : new AlignedBuffer(BufferSize, Alignment);

    public void Return(AlignedBuffer buffer)
    {
        if (Volatile.Read(ref _disposed) || _free.Count >= _capacity)
        {
            buffer.Dispose();
            return;
        }

        _free.Add(buffer);
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        while (_free.TryTake(out var buffer))
        {
            buffer.Dispose();
        }
    }
}
