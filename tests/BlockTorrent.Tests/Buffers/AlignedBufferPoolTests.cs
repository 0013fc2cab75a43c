using BlockTorrent.Buffers;

namespace BlockTorrent.Tests.Buffers;

public sealed class AlignedBufferPoolTests
{
    [Fact]
    public void APoolReportsEveryBufferItAllocatesAndFreesAndReusesReturnedOnes()
    {
        long held = 0;
        var pool = new AlignedBufferPool(5000, bytes => held += bytes);

        AlignedBuffer first = pool.Rent();
        AlignedBuffer second = pool.Rent();
        pool.Return(first);
        AlignedBuffer again = pool.Rent();

        Assert.Same(first, again);
        Assert.Equal(2, pool.Created);
        Assert.Equal(2 * AlignedBuffer.RoundUp(5000), held);
        pool.Return(again);
        pool.Dispose();
        Assert.Equal(AlignedBuffer.RoundUp(5000), held);
        pool.Return(second);
        Assert.Equal(0, held);
    }
}
