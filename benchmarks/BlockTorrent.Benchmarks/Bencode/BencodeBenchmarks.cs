using System.Buffers;
using BenchmarkDotNet.Attributes;
using BlockTorrent.Bencode;
using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Benchmarks.Bencode;

/// <summary>
/// The one bencode reader on both of its paths: the strict path of a large torrent (a hybrid torrent of 16384
/// pieces: 320 KiB of SHA-1 hashes and a 512 KiB piece layer), walked token by token and parsed into a
/// <see cref="TorrentManifest"/>, and the lenient wire path of the extension messages every peer sends.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- --filter '*Bencode*' --job short</c>.</remarks>
[MemoryDiagnoser]
public class BencodeBenchmarks
{
    private byte[] _torrent = [];
    private byte[] _handshake = [];
    private byte[] _metadataRequest = [];

    [GlobalSetup]
    public void Setup()
    {
        byte[] image = new byte[16384L * 16384];
        new Random(1).NextBytes(image);
        _torrent = ManifestBuilder.CreateAsync(image, "large.img", new ManifestBuilderOptions { PieceLength = 16384 }).GetAwaiter().GetResult().ToTorrentBytes();
        _handshake = ExtensionHandshake.Encode(metadataSize: 123_456, listenPort: 6881, requestQueue: 500, [new(ExtensionHandshake.UtMetadataName, 1), new(ExtensionHandshake.UtPexName, 2)]);
        var output = new ArrayBufferWriter<byte>();
        MetadataMessage.Write(output, MetadataMessageType.Request, 3, 0, default);
        _metadataRequest = output.WrittenSpan.ToArray();
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

    [Benchmark(Description = "Bencode: ExtensionHandshake.TryParse (BEP 10)")]
    public int ParseExtensionHandshake() => ExtensionHandshake.TryParse(_handshake, out ExtensionHandshake handshake) ? handshake.ListenPort : -1;

    [Benchmark(Description = "Bencode: MetadataMessage.TryParse, a request (BEP 9)")]
    public int ParseMetadataRequest() => MetadataMessage.TryParse(new ReadOnlySequence<byte>(_metadataRequest), out MetadataMessage message) ? message.Piece : -1;
}
