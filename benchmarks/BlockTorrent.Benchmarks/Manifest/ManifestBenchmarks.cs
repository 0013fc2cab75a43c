using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BlockTorrent.Manifest;

namespace BlockTorrent.Benchmarks.Manifest;

/// <summary>
/// Hashing one piece and verifying one piece (parsing a torrent is in <c>BencodeBenchmarks</c>).
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- --filter '*ManifestBenchmarks*' --job short</c>.</remarks>
[MemoryDiagnoser]
public class ManifestBenchmarks
{
    private byte[] _piece = [];
    private TorrentManifest _manifest = null!;

    [Params(256 * 1024, 4 * 1024 * 1024)]
    public int PieceLength { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _piece = new byte[PieceLength];
        new Random(1).NextBytes(_piece);
        _manifest = ManifestBuilder.CreateAsync(_piece.AsMemory(), "piece.img", new ManifestBuilderOptions { PieceLength = PieceLength / 2 }).GetAwaiter().GetResult();
    }

    [Benchmark(Description = "SHA-1 of one piece")]
    public byte SHA1Piece()
    {
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(_piece, hash);
        return hash[0];
    }

    [Benchmark(Description = "SHA-256 merkle root of one piece")]
    public byte MerklePiece()
    {
        Span<byte> root = stackalloc byte[32];
        MerkleTree.ComputeRoot(_piece, PieceLength / MerkleTree.BlockSize, root);
        return root[0];
    }

    [Benchmark(Description = "VerifyPiece, hybrid (merkle + SHA-1), half a piece")]
    public bool VerifyHybrid() => _manifest.VerifyPiece(0, _piece.AsSpan(0, PieceLength / 2));
}
