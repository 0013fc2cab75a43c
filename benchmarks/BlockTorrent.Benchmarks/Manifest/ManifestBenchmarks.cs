using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BlockTorrent.Bencode;
using BlockTorrent.Manifest;

namespace BlockTorrent.Benchmarks.Manifest;

/// <summary>
/// Parsing a large torrent (a hybrid torrent of 16384 pieces: 320 KiB of SHA-1 hashes and a 512 KiB piece layer),
/// hashing one piece, and verifying one piece.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- --filter '*ManifestBenchmarks*' --job short</c>.</remarks>
[MemoryDiagnoser]
public class ManifestBenchmarks
{
    private byte[] _torrent = [];
    private byte[] _piece = [];
    private TorrentManifest _manifest = null!;

    [Params(256 * 1024, 4 * 1024 * 1024)]
    public int PieceLength { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        byte[] image = new byte[16384L * 16384];
        new Random(1).NextBytes(image);
        _torrent = ManifestBuilder.CreateAsync(image, "large.img", new ManifestBuilderOptions { PieceLength = 16384 }).GetAwaiter().GetResult().ToTorrentBytes();
        _piece = image.AsSpan(0, PieceLength).ToArray();
        _manifest = ManifestBuilder.CreateAsync(_piece.AsMemory(), "piece.img", new ManifestBuilderOptions { PieceLength = PieceLength / 2 }).GetAwaiter().GetResult();
    }

    [Benchmark(Description = "Bencode walk of a 16384-piece hybrid torrent")]
    public int WalkTorrent()
    {
        var reader = new BencodeReader(_torrent);
        int tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }

        return tokens;
    }

    [Benchmark(Description = "TorrentManifest.Parse of a 16384-piece hybrid torrent")]
    public int ParseTorrent() => TorrentManifest.Parse(_torrent).PieceCount;

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
