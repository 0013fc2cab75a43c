using System.Security.Cryptography;
using BlockTorrent.Manifest;

namespace BlockTorrent.Tests.Writing;

/// <summary>
/// A minimal manifest for writer tests: SHA-256 per piece, zero and duplicate pieces found by hash, exactly as the
/// real manifest derives them. It lets the writer be tested on its own terms.
/// </summary>
internal sealed class HashListManifest : IImageManifest
{
    private readonly byte[][] _hashes;
    private readonly bool[] _zero;
    private readonly int[] _canonical;

    public HashListManifest(ReadOnlySpan<byte> image, int pieceLength, string name = "test.img")
    {
        Name = name;
        Length = image.Length;
        PieceLength = pieceLength;
        PieceCount = (int)((image.Length + pieceLength - 1) / pieceLength);
        _hashes = new byte[PieceCount][];
        _zero = new bool[PieceCount];
        _canonical = new int[PieceCount];
        var first = new Dictionary<string, int>();
        for (int p = 0; p < PieceCount; p++)
        {
            ReadOnlySpan<byte> piece = image.Slice(p * pieceLength, GetPieceSize(p));
            _hashes[p] = SHA256.HashData(piece);
            _zero[p] = _hashes[p].AsSpan().SequenceEqual(SHA256.HashData(new byte[piece.Length]));
            string key = Convert.ToHexString(_hashes[p]);
            if (_zero[p])
            {
                _canonical[p] = p;
                ZeroPieceCount++;
            }
            else if (first.TryGetValue(key, out int canonical))
            {
                _canonical[p] = canonical;
                DuplicatePieceCount++;
            }
            else
            {
                first[key] = p;
                _canonical[p] = p;
            }
        }

        InfoHashV2 = new InfoHash(SHA256.HashData(_hashes.SelectMany(h => h).ToArray()));
    }

    public string Name { get; }

    public long Length { get; }

    public int PieceLength { get; }

    public int PieceCount { get; }

    public TorrentVersions Versions => TorrentVersions.V2;

    public InfoHash? InfoHashV1 => null;

    public InfoHash? InfoHashV2 { get; }

    public int ZeroPieceCount { get; }

    public int DuplicatePieceCount { get; }

    public long GetPieceOffset(int piece)
    {
        Check(piece);
        return (long)piece * PieceLength;
    }

    public int GetPieceSize(int piece)
    {
        Check(piece);
        return (int)Math.Min(PieceLength, Length - ((long)piece * PieceLength));
    }

    public bool IsZeroPiece(int piece)
    {
        Check(piece);
        return _zero[piece];
    }

    public int GetCanonicalPiece(int piece)
    {
        Check(piece);
        return _canonical[piece];
    }

    public bool VerifyPiece(int piece, ReadOnlySpan<byte> data)
    {
        Check(piece);
        return data.Length == GetPieceSize(piece) && SHA256.HashData(data).AsSpan().SequenceEqual(_hashes[piece]);
    }

    private void Check(int piece) => ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)piece, (uint)PieceCount, nameof(piece));
}
