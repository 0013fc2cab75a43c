using BenchmarkDotNet.Attributes;
using BlockTorrent.Manifest;

namespace BlockTorrent.Benchmarks.Manifest;

/// <summary>
/// Making a .torrent of a 1 GiB image file (incompressible, in the page cache after the first run) with 4 MiB pieces.
/// Compare with <c>dd if=FILE of=/dev/null bs=16M</c> (sequential read) and with the single-core SHA throughput of
/// <see cref="ManifestBenchmarks"/> times the number of cores.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- --filter '*ManifestBuilderBenchmarks*' --job short</c>.</remarks>
[MemoryDiagnoser]
public class ManifestBuilderBenchmarks
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "blocktorrent-manifest-bench-1g.img");

    [Params(TorrentVersions.V1, TorrentVersions.V2, TorrentVersions.Hybrid)]
    public TorrentVersions Versions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        const int chunk = 16 << 20;
        byte[] buffer = new byte[chunk];
        var random = new Random(3);
        using var file = new FileStream(_path, FileMode.Create, FileAccess.Write);
        for (int i = 0; i < (1 << 30) / chunk; i++)
        {
            random.NextBytes(buffer);
            file.Write(buffer);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark(Description = "ManifestBuilder, 1 GiB file, 4 MiB pieces")]
    public async Task<int> CreateFromFile()
    {
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(_path, new ManifestBuilderOptions { PieceLength = 4 << 20, Versions = Versions });
        return manifest.PieceCount;
    }
}
