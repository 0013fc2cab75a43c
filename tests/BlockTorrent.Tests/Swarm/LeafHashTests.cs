using System.Buffers;
using BlockTorrent.Manifest;
using BlockTorrent.Swarm;
using BlockTorrent.Swarm.Extensions;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

/// <summary>BEP 52 leaf hashes (layer 0): served from the pieces a peer holds, fetched and proved against the piece layer.</summary>
public sealed class LeafHashTests
{
    [Theory]
    [InlineData(TorrentVersions.V2, 64 * 1024)]
    [InlineData(TorrentVersions.Hybrid, 256 * 1024)]
    public async Task LeafHashesOfAnyRangeInsideAPieceProveAgainstThePiecesRootWithTheirUncles(TorrentVersions versions, int pieceLength)
    {
        (byte[] image, TorrentManifest manifest) = await CreateAsync((5 * pieceLength) + 7000, versions, pieceLength);
        int width = manifest.LeavesPerPiece;
        byte[] destination = new byte[(width + 64) * MerkleTree.HashSize];
        for (int piece = 0; piece < manifest.PieceCount; piece++)
        {
            LeafHashes leaves = LeafHashes.Compute(PieceOf(image, manifest, piece), width);
            for (int length = 2; length <= width; length *= 2)
            {
                int index = (piece * width) + (length == width ? 0 : length);
                Assert.True(manifest.TryGetLeafHashes(index, length, manifest.TreeHeight - 1, leaves.Leaves, destination, out int written));
                Assert.True(MerkleTree.VerifyHashes(manifest.PiecesRoot, manifest.TreeHeight, 0, index, length, destination.AsSpan(0, written)));
            }
        }
    }

    [Fact]
    public async Task LeafHashRequestsSpanningPiecesOrPastTheLastPieceAreRefused()
    {
        (byte[] image, TorrentManifest manifest) = await CreateAsync(4 * 64 * 1024, TorrentVersions.V2, 64 * 1024);
        int width = manifest.LeavesPerPiece;
        LeafHashes leaves = LeafHashes.Compute(PieceOf(image, manifest, 0), width);
        byte[] destination = new byte[(4 * width + 64) * MerkleTree.HashSize];

        Assert.False(manifest.TryGetLeafHashes(0, 2 * width, 0, leaves.Leaves, destination, out _));
        Assert.False(manifest.TryGetLeafHashes(manifest.PieceCount * width, 2, 0, leaves.Leaves, destination, out _));
        Assert.False(manifest.TryGetLeafHashes(1, 2, 0, leaves.Leaves, destination, out _));
        Assert.False(manifest.TryGetLeafHashes(0, 3, 0, leaves.Leaves, destination, out _));
        Assert.False(manifest.TryGetLeafHashes(0, width, 0, leaves.Leaves[..^1], destination, out _));
    }

    [Fact]
    public async Task ASeedServesLeafHashesThatTheFetchProvesAndItRejectsRequestsItCannotAnswer()
    {
        const int PieceLength = 128 * 1024;
        (byte[] image, TorrentManifest manifest) = await CreateAsync((6 * PieceLength) + 5000, TorrentVersions.Hybrid, PieceLength);
        int width = manifest.LeavesPerPiece;
        int last = manifest.PieceCount - 1;
        var proven = new Dictionary<int, LeafHashes?>();
        var fetch = new LeafHashFetch(manifest, (_, piece, leaves) => proven[piece] = leaves);
        var peer = new FakeExtensionPeer();
        Assert.True(fetch.TryRequest(peer, 1));
        Assert.True(fetch.TryRequest(peer, last));
        HashRequest[] requests = [.. peer.Queued.Select(q => q.Hash)];
        HashRequest spanning = requests[0] with { Index = 0, Length = 2 * width };
        HashRequest withProof = requests[0] with { Index = (2 * width) + 4, Length = 4, ProofLayers = manifest.TreeHeight - 1 };

        List<(MessageId Id, byte[] Body)> answers = await HostilePeerTests.AskASeedForHashesAsync(image, manifest, [.. requests, spanning, withProof]);

        foreach ((MessageId id, byte[] body) in answers)
        {
            HashRequest answered = HostilePeerTests.ParseHashRequest(body);
            if (answered == spanning)
            {
                Assert.Equal(MessageId.HashReject, id);
            }
            else if (answered == withProof)
            {
                Assert.Equal(MessageId.Hashes, id);
                Assert.True(MerkleTree.VerifyHashes(manifest.PiecesRoot, manifest.TreeHeight, 0, withProof.Index, withProof.Length, body.AsSpan(HashRequest.EncodedSize)));
            }
            else
            {
                Assert.Equal(MessageId.Hashes, id);
                Assert.Null(fetch.OnMessage(peer, Message(id, answered, body.AsSpan(HashRequest.EncodedSize).ToArray())));
            }
        }

        foreach (int piece in new[] { 1, last })
        {
            LeafHashes leaves = Assert.IsType<LeafHashes>(proven[piece]);
            byte[] bytes = PieceOf(image, manifest, piece);
            Assert.Equal(MerkleTree.BlockCount(bytes.Length), leaves.BlockCount);
            for (int block = 0; block < leaves.BlockCount; block++)
            {
                int start = block * MerkleTree.BlockSize;
                Assert.True(leaves.Matches(block, bytes.AsSpan(start, Math.Min(MerkleTree.BlockSize, bytes.Length - start))));
            }
        }
    }

    [Fact]
    public async Task AFetchDropsAPeerWhoseLeavesDoNotProveAndIgnoresAnswersItDidNotAskFor()
    {
        (byte[] image, TorrentManifest manifest) = await CreateAsync(4 * 64 * 1024, TorrentVersions.V2, 64 * 1024);
        var proven = new List<(int, LeafHashes?)>();
        var fetch = new LeafHashFetch(manifest, (_, piece, leaves) => proven.Add((piece, leaves)));
        var peer = new FakeExtensionPeer();
        Assert.True(fetch.TryRequest(peer, 2));
        HashRequest request = peer.Queued[0].Hash;
        byte[] leaves = LeafHashes.Compute(PieceOf(image, manifest, 2), manifest.LeavesPerPiece).Leaves.ToArray();
        byte[] otherLeaves = LeafHashes.Compute(PieceOf(image, manifest, 3), manifest.LeavesPerPiece).Leaves.ToArray();

        Assert.Null(fetch.OnMessage(peer, Message(MessageId.Hashes, request with { Index = 3 * manifest.LeavesPerPiece }, otherLeaves)));
        Assert.Null(fetch.OnMessage(new FakeExtensionPeer(), Message(MessageId.Hashes, request, leaves)));
        Assert.Empty(proven);

        leaves[5] ^= 1;
        Assert.NotNull(fetch.OnMessage(peer, Message(MessageId.Hashes, request, leaves)));
        Assert.Empty(proven);
    }

    [Fact]
    public async Task AFetchKeepsFewRequestsOutPerPeerAndReportsRejectedAndAbandonedOnesWithoutLeaves()
    {
        (_, TorrentManifest manifest) = await CreateAsync(16 * 64 * 1024, TorrentVersions.V2, 64 * 1024);
        var reported = new List<(int Piece, LeafHashes? Leaves)>();
        var fetch = new LeafHashFetch(manifest, (_, piece, leaves) => reported.Add((piece, leaves)));
        var peer = new FakeExtensionPeer();

        for (int piece = 0; piece < LeafHashFetch.MaxOutstandingPerPeer; piece++)
        {
            Assert.True(fetch.TryRequest(peer, piece));
        }

        Assert.False(fetch.TryRequest(peer, LeafHashFetch.MaxOutstandingPerPeer));
        Assert.False(fetch.TryRequest(new FakeExtensionPeer(), manifest.PieceCount));
        Assert.Null(fetch.OnMessage(peer, Message(MessageId.HashReject, peer.Queued[0].Hash, [])));
        fetch.OnPeerClosed(peer);

        Assert.Equal(Enumerable.Range(0, LeafHashFetch.MaxOutstandingPerPeer), reported.Select(r => r.Piece).Order());
        Assert.All(reported, r => Assert.Null(r.Leaves));
    }

    [Fact]
    public async Task AV1ManifestHasNoLeavesToFetch()
    {
        (_, TorrentManifest manifest) = await CreateAsync(4 * 64 * 1024, TorrentVersions.V1, 64 * 1024);
        var fetch = new LeafHashFetch(manifest, (_, _, _) => throw new InvalidOperationException("no leaves expected"));

        Assert.False(fetch.Applies);
        Assert.False(fetch.TryRequest(new FakeExtensionPeer(), 0));
    }

    private static Task<(byte[] Image, TorrentManifest Manifest)> CreateAsync(long length, TorrentVersions versions, int pieceLength) =>
        SwarmTestImages.CreateAsync(length, seed: 71, versions, pieceLength);

    private static byte[] PieceOf(byte[] image, TorrentManifest manifest, int piece) =>
        image.AsSpan((int)((long)piece * manifest.PieceLength), manifest.GetPieceSize(piece)).ToArray();

    private static PeerMessage Message(MessageId id, HashRequest request, byte[] hashes) =>
        new() { Id = id, Hashes = request, Payload = new ReadOnlySequence<byte>(hashes) };
}
