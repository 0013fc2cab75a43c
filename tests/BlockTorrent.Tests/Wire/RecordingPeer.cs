using System.Buffers;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Wire;

/// <summary>
/// A message handler and block sink for tests: it records every callback as a line of text, reacts through optional
/// delegates, and lands blocks of the blocks it was told to expect in <see cref="Data"/>.
/// </summary>
internal sealed class RecordingPeer : IPeerMessageHandler, IBlockSink
{
    private readonly List<string> _events = [];
    private readonly HashSet<(int Piece, int Offset)> _expected = [];
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RecordingPeer(int pieceLength = MessageReader.BlockSize * 2, int pieceCount = 4)
    {
        PieceLength = pieceLength;
        Data = new byte[pieceLength * pieceCount];
    }

    public int PieceLength { get; }

    /// <summary>Gets where expected blocks land, piece i at i × piece length.</summary>
    public byte[] Data { get; }

    public Action<PeerConnection>? Interested { get; init; }

    public Action<PeerConnection>? Unchoked { get; init; }

    public Action<PeerConnection, BlockRequest>? Requested { get; init; }

    public Action<PeerConnection, MetadataMessage>? Metadata { get; init; }

    public Task Closed => _closed.Task;

    public string[] Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public bool Saw(string line) => Events.Contains(line);

    public void Expect(int piece, int offset)
    {
        lock (_expected)
        {
            _expected.Add((piece, offset));
        }
    }

    public void OnChoke(PeerConnection connection) => Record("choke");

    public void OnUnchoke(PeerConnection connection)
    {
        Record("unchoke");
        Unchoked?.Invoke(connection);
    }

    public void OnInterested(PeerConnection connection)
    {
        Record("interested");
        Interested?.Invoke(connection);
    }

    public void OnNotInterested(PeerConnection connection) => Record("not interested");

    public void OnHave(PeerConnection connection, int piece) => Record($"have {piece}");

    public void OnBitfield(PeerConnection connection, ReadOnlySequence<byte> bitfield) => Record($"bitfield {Convert.ToHexStringLower(bitfield.ToArray())}");

    public void OnHaveAll(PeerConnection connection) => Record("have all");

    public void OnHaveNone(PeerConnection connection) => Record("have none");

    public void OnRequest(PeerConnection connection, BlockRequest block)
    {
        Record($"request {block.Piece}/{block.Offset}/{block.Length}");
        Requested?.Invoke(connection, block);
    }

    public void OnCancel(PeerConnection connection, BlockRequest block) => Record($"cancel {block.Piece}/{block.Offset}/{block.Length}");

    public void OnRejectRequest(PeerConnection connection, BlockRequest block) => Record($"reject {block.Piece}/{block.Offset}/{block.Length}");

    public void OnSuggestPiece(PeerConnection connection, int piece) => Record($"suggest {piece}");

    public void OnAllowedFast(PeerConnection connection, int piece) => Record($"allowed fast {piece}");

    public void OnPort(PeerConnection connection, ushort port) => Record($"port {port}");

    public void OnExtendedHandshake(PeerConnection connection, ExtensionHandshake handshake) =>
        Record($"extended handshake {handshake.Client} reqq {handshake.RequestQueueLength} metadata_size {handshake.MetadataSize}");

    public void OnMetadata(PeerConnection connection, MetadataMessage message)
    {
        Record($"metadata {message.Type} {message.Piece} {message.TotalSize} {Convert.ToHexStringLower(message.Data.ToArray())}");
        Metadata?.Invoke(connection, message);
    }

    public void OnPex(PeerConnection connection, PexMessage message) =>
        Record($"pex +{string.Join(",", message.Added.Select(p => $"{p.EndPoint}/{p.Flags}"))} -{string.Join(",", message.Dropped.Select(p => p.EndPoint))}");

    public void OnHashRequest(PeerConnection connection, in HashRequest request) => Record($"hash request {request.Index}/{request.Length}");

    public void OnHashes(PeerConnection connection, in HashRequest request, ReadOnlySequence<byte> hashes) => Record($"hashes {request.Index}/{request.Length} {hashes.Length}");

    public void OnHashReject(PeerConnection connection, in HashRequest request) => Record($"hash reject {request.Index}/{request.Length}");

    public void OnClosed(PeerConnection connection)
    {
        Record($"closed {connection.CloseReason}");
        _closed.TrySetResult();
    }

    public bool TryGetDestination(PeerConnection connection, int piece, int offset, int length, out Memory<byte> destination)
    {
        lock (_expected)
        {
            if (!_expected.Remove((piece, offset)))
            {
                destination = default;
                return false;
            }
        }

        destination = Data.AsMemory((piece * PieceLength) + offset, length);
        return true;
    }

    public void OnBlockReceived(PeerConnection connection, int piece, int offset, int length) => Record($"block {piece}/{offset}/{length}");

    private void Record(string line)
    {
        lock (_events)
        {
            _events.Add(line);
        }
    }
}
