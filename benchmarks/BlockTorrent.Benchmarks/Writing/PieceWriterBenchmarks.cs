using BenchmarkDotNet.Attributes;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Writing;

namespace BlockTorrent.Benchmarks.Writing;

/// <summary>
/// The piece writer's throughput to an image file: a 1 GiB image of incompressible data in 4 MiB pieces, committed
/// in random order the way a swarm delivers them (rent, fill, commit, next), verified (hybrid: SHA-256 merkle root),
/// written and flushed (fsync) to a new file. Compare with <c>dd if=image of=out bs=4M conv=fdatasync</c>.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- --filter '*PieceWriterBenchmarks*' --job short</c>.</remarks>
[MemoryDiagnoser]
public class PieceWriterBenchmarks
{
    private const int PieceLength = 4 << 20;
    private const long ImageLength = 1L << 30;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "blocktorrent-bench");
    private byte[] _image = [];
    private TorrentManifest _manifest = null!;
    private int[] _order = [];
    private Task<PieceWriteResult>[] _commits = [];

    /// <summary>Gets the path of the image file, for the dd comparison.</summary>
    public string ImagePath => Path.Combine(_directory, "image-1g.img");

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_directory);
        _image = GC.AllocateUninitializedArray<byte>((int)ImageLength);
        new Random(42).NextBytes(_image);
        File.WriteAllBytes(ImagePath, _image);
        _manifest = ManifestBuilder.CreateAsync(new MemoryBlockDevice(_image), new ManifestBuilderOptions { PieceLength = PieceLength, Name = "image-1g.img" }).GetAwaiter().GetResult();
        _order = [.. Enumerable.Range(0, _manifest.PieceCount)];
        new Random(7).Shuffle(_order);
        _commits = new Task<PieceWriteResult>[_order.Length];
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    [Benchmark(Description = "PieceWriter 1 GiB, 4 MiB pieces, random order, to a file + fsync")]
    public async Task<long> WriteImageToFile()
    {
        string target = Path.Combine(_directory, "target.img");
        await using var device = FileBlockDevice.Create(target, ImageLength, new FileBlockDeviceOptions { Overwrite = true });
        await using var writer = new PieceWriter(_manifest, device);
        for (int i = 0; i < _order.Length; i++)
        {
            int piece = _order[i];
            PieceBuffer buffer = await writer.RentAsync(piece);
            _image.AsMemory((int)_manifest.GetPieceOffset(piece), _manifest.GetPieceSize(piece)).CopyTo(buffer.Memory);
            _commits[i] = writer.CommitAsync(buffer);
        }

        await Task.WhenAll(_commits);
        PieceWriterStatistics statistics = await writer.CompleteAsync();
        return statistics.BytesWritten;
    }
}
