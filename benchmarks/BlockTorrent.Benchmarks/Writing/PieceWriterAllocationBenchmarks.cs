using BenchmarkDotNet.Attributes;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Writing;

namespace BlockTorrent.Benchmarks.Writing;

/// <summary>
/// What the writer allocates per piece: the same work at two piece counts into memory, so the difference in the
/// Allocated column divided by the difference in pieces is the managed allocation per piece (it must be a small
/// constant, independent of the piece length: piece memory is pooled native memory).
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- --filter '*PieceWriterAllocation*' --job short</c>.</remarks>
[MemoryDiagnoser]
public class PieceWriterAllocationBenchmarks
{
    private const int PieceLength = 1 << 20;

    private byte[] _image = [];
    private TorrentManifest _manifest = null!;
    private MemoryBlockDevice _device = null!;
    private Task<PieceWriteResult>[] _commits = [];

    [Params(64, 256)]
    public int Pieces { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _image = new byte[(long)Pieces * PieceLength];
        new Random(42).NextBytes(_image);
        _manifest = ManifestBuilder.CreateAsync(new MemoryBlockDevice(_image), new ManifestBuilderOptions { PieceLength = PieceLength, Name = "alloc.img" }).GetAwaiter().GetResult();
        _device = new MemoryBlockDevice(_image.Length);
        _commits = new Task<PieceWriteResult>[Pieces];
    }

    [Benchmark(Description = "PieceWriter into memory, 1 MiB pieces")]
    public async Task<long> WriteImageToMemory()
    {
        await using var writer = new PieceWriter(_manifest, _device);
        for (int piece = 0; piece < Pieces; piece++)
        {
            PieceBuffer buffer = await writer.RentAsync(piece);
            _image.AsMemory(piece * PieceLength, PieceLength).CopyTo(buffer.Memory);
            _commits[piece] = writer.CommitAsync(buffer);
        }

        await Task.WhenAll(_commits);
        return (await writer.CompleteAsync()).BytesWritten;
    }
}
