using BlockTorrent.Wire;
namespace BlockTorrent.Swarm;

/// <summary>
/// The block-level state of one piece being downloaded: which blocks are requested (from at most two peers each),
/// which are arriving into the piece buffer right now, which have arrived, and who sent them.
/// </summary>
/// <remarks>
/// A block is <em>receiving</em> while a connection copies its bytes into the piece buffer. Only one connection may
/// do so at a time, and the piece is complete only when every block has been received and none is receiving, so the
/// buffer is never written after it has been handed to the writer.
/// The picker reuses a progress for the next piece it starts (<see cref="Reset"/>), so its arrays are sized for the
/// largest piece it has held and only the first <see cref="BlockCount"/> entries are this piece's.
/// </remarks>
internal sealed class PieceProgress
{
    private const byte Received = 0x80;
    private const byte Receiving = 0x40;
    private const byte Local = 0x20;
    private const byte Verified = 0x10;
    private const byte RequestCountMask = 0x0F;

    private readonly byte[] _state;
    private readonly PickerPeer?[] _requesters;
    private readonly List<PickerPeer> _contributors = [];

    // Where each local block's bytes come from: an image block index, or BlockMap.Zero. Made for the first local block.
    private long[]? _sources;

    public PieceProgress(int piece, int size, int blockSize)
    {
        Piece = piece;
        Size = size;
        BlockSize = blockSize;
        BlockCount = (size + blockSize - 1) / blockSize;
        _state = new byte[BlockCount];
        _requesters = new PickerPeer?[BlockCount * PiecePicker.MaxRequestsPerBlock];
    }

    public int Piece { get; private set; }

    public int Size { get; private set; }

    public int BlockSize { get; }

    public int BlockCount { get; private set; }

    /// <summary>Gets or sets a value indicating whether the piece's buffer is ready, so its blocks may be requested.</summary>
    public bool Ready { get; set; }

    /// <summary>Gets or sets the only peer that may serve this piece (set after a failure with several contributors).</summary>
    public PickerPeer? ExclusivePeer { get; set; }

    /// <summary>Gets the number of blocks received.</summary>
    public int ReceivedCount { get; private set; }

    /// <summary>Gets the number of blocks nobody has requested and nobody has sent.</summary>
    public int UnrequestedCount { get; private set; }

    /// <summary>Gets the number of blocks filled in locally rather than fetched (see <see cref="MarkLocal"/>).</summary>
    public int LocalCount { get; private set; }

    /// <summary>Gets the number of blocks being copied into the buffer now.</summary>
    public int ReceivingCount { get; private set; }

    /// <summary>Gets a value indicating whether every block is in the buffer and none is still arriving.</summary>
    public bool IsComplete => ReceivedCount == BlockCount && ReceivingCount == 0;

    /// <summary>Gets the piece's BEP 52 leaf hashes once proven (block relaying, docs/BLOCK-RELAY.md), or <see langword="null"/>.</summary>
    public LeafHashes? Leaves { get; private set; }

    /// <summary>Gets the number of received blocks that matched their leaf hash (the only ones that may be passed on).</summary>
    public int VerifiedCount { get; private set; }

    /// <summary>Gets the peers whose blocks are in the buffer (for blame when the piece fails its hash check).</summary>
    public IReadOnlyList<PickerPeer> Contributors => _contributors;

    public void Initialize()
    {
        UnrequestedCount = BlockCount;
    }

    /// <summary>Gets a value indicating whether this progress can be reset for a piece of <paramref name="size"/> bytes.</summary>
    /// <param name="size">The piece's size.</param>
    /// <returns><see langword="true"/> when its arrays hold that many blocks.</returns>
    public bool CanHold(int size) => (size + BlockSize - 1) / BlockSize <= _state.Length;

    /// <summary>
    /// Makes this progress, released (<see cref="ReleaseAll"/>) and no longer reachable from the picker, that of a new
    /// piece, as a new instance would be; <see cref="Initialize"/> follows as for a new one.
    /// </summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="size">The piece's size, one <see cref="CanHold"/> accepts.</param>
    public void Reset(int piece, int size)
    {
        Piece = piece;
        Size = size;
        BlockCount = (size + BlockSize - 1) / BlockSize;
        Array.Clear(_state);
        Array.Clear(_requesters);
        _contributors.Clear();
        Ready = false;
        ExclusivePeer = null;
        ReceivedCount = 0;
        UnrequestedCount = 0;
        LocalCount = 0;
        ReceivingCount = 0;
        Leaves = null;
        VerifiedCount = 0;
    }

    /// <summary>
    /// Marks an unrequested block as one the swarm fills in itself (zeros, or a copy of a block it holds) when the
    /// piece is committed: it counts as received, so it is never requested, and it has no contributor.
    /// </summary>
    /// <param name="block">The block index, neither requested nor received.</param>
    /// <param name="source">The image block to copy, or <c>BlockMap.Zero</c>.</param>
    public void MarkLocal(int block, long source)
    {
        if (_state[block] != 0)
        {
            throw new InvalidOperationException($"Block {block} of piece {Piece} is already requested or received.");
        }

        _sources ??= new long[BlockCount];
        _sources[block] = source;
        _state[block] = Received | Local;
        ReceivedCount++;
        UnrequestedCount--;
        LocalCount++;
    }

    /// <summary>Gets a value indicating whether a block is filled in locally.</summary>
    /// <param name="block">The block index.</param>
    /// <returns><see langword="true"/> for a block marked by <see cref="MarkLocal"/>.</returns>
    public bool IsLocal(int block) => (_state[block] & Local) != 0;

    /// <summary>Gets where a local block's bytes come from: an image block index, or <c>BlockMap.Zero</c>.</summary>
    /// <param name="block">A block for which <see cref="IsLocal"/> is true.</param>
    /// <returns>The source.</returns>
    public long LocalSource(int block) => _sources![block];

    public BlockRequest GetBlock(int block)
    {
        int offset = block * BlockSize;
        return new BlockRequest(Piece, offset, Math.Min(BlockSize, Size - offset));
    }

    /// <summary>Maps a block offset and length to a block index, or -1 when they are not a block of this piece.</summary>
    public int BlockIndexOf(int offset, int length)
    {
        if (offset < 0 || offset >= Size || offset % BlockSize != 0)
        {
            return -1;
        }

        int block = offset / BlockSize;
        return length == Math.Min(BlockSize, Size - offset) ? block : -1;
    }

    public int RequestCount(int block) => _state[block] & RequestCountMask;

    /// <summary>Gets a value indicating whether a received block matched its leaf hash.</summary>
    /// <param name="block">The block index.</param>
    /// <returns><see langword="true"/> once verified.</returns>
    public bool IsVerified(int block) => (_state[block] & Verified) != 0;

    /// <summary>
    /// Takes the piece's proven leaf hashes and checks the blocks already received against them: a block that matches
    /// is verified; one that does not stays received but unverified, so it is never passed on, and the check of the
    /// whole piece fails and blames as it always does. Blocks filled in locally are not checked (they are ours).
    /// </summary>
    /// <param name="leaves">The leaves, proven against the piece's hash.</param>
    /// <param name="buffer">The piece's buffer (at least <see cref="Size"/> bytes).</param>
    /// <returns><see langword="false"/> when leaves are already known or are for another number of blocks.</returns>
    public bool SetLeaves(LeafHashes leaves, ReadOnlySpan<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        if (Leaves is not null || leaves.BlockCount != BlockCount || buffer.Length < Size)
        {
            return false;
        }

        Leaves = leaves;
        for (int b = 0; b < BlockCount; b++)
        {
            BlockRequest block = GetBlock(b);
            if ((_state[b] & (Received | Local)) == Received && leaves.Matches(b, buffer.Slice(block.Offset, block.Length)))
            {
                _state[b] |= Verified;
                VerifiedCount++;
            }
        }

        return true;
    }

    public bool IsReceived(int block) => (_state[block] & Received) != 0;

    public bool IsReceiving(int block) => (_state[block] & Receiving) != 0;

    public bool IsRequestedBy(int block, PickerPeer peer)
    {
        int b = block * PiecePicker.MaxRequestsPerBlock;
        for (int i = 0; i < PiecePicker.MaxRequestsPerBlock; i++)
        {
            if (ReferenceEquals(_requesters[b + i], peer))
            {
                return true;
            }
        }

        return false;
    }

    public void AddRequest(int block, PickerPeer peer)
    {
        int b = block * PiecePicker.MaxRequestsPerBlock;
        for (int i = 0; i < PiecePicker.MaxRequestsPerBlock; i++)
        {
            if (_requesters[b + i] is null)
            {
                _requesters[b + i] = peer;
                if ((_state[block] & RequestCountMask) == 0)
                {
                    UnrequestedCount--;
                }

                _state[block]++;
                peer.Outstanding++;
                return;
            }
        }

        throw new InvalidOperationException($"Block {block} of piece {Piece} already has {PiecePicker.MaxRequestsPerBlock} requests.");
    }

    /// <summary>Forgets <paramref name="peer"/>'s request for a block; returns whether it had one.</summary>
    public bool RemoveRequest(int block, PickerPeer peer)
    {
        int b = block * PiecePicker.MaxRequestsPerBlock;
        for (int i = 0; i < PiecePicker.MaxRequestsPerBlock; i++)
        {
            if (ReferenceEquals(_requesters[b + i], peer))
            {
                _requesters[b + i] = null;
                _state[block]--;
                peer.Outstanding--;
                if ((_state[block] & (RequestCountMask | Received | Receiving)) == 0)
                {
                    UnrequestedCount++;
                }

                return true;
            }
        }

        return false;
    }

    /// <summary>Forgets every request for a block, collecting the other peers that asked for it (they get a cancel).</summary>
    public void RemoveAllRequests(int block, PickerPeer? except, List<PieceCancel>? cancels)
    {
        int b = block * PiecePicker.MaxRequestsPerBlock;
        for (int i = 0; i < PiecePicker.MaxRequestsPerBlock; i++)
        {
            PickerPeer? peer = _requesters[b + i];
            if (peer is null)
            {
                continue;
            }

            _requesters[b + i] = null;
            _state[block]--;
            peer.Outstanding--;
            if (!ReferenceEquals(peer, except))
            {
                cancels?.Add(new PieceCancel(peer, GetBlock(block)));
            }
        }
    }

    public bool TryBeginReceive(int block)
    {
        if ((_state[block] & (Received | Receiving)) != 0)
        {
            return false;
        }

        if ((_state[block] & RequestCountMask) == 0)
        {
            UnrequestedCount--;
        }

        _state[block] |= Receiving;
        ReceivingCount++;
        return true;
    }

    public void EndReceive(int block, PickerPeer peer, bool success, bool verified = false)
    {
        _state[block] &= unchecked((byte)~Receiving);
        ReceivingCount--;
        if (success)
        {
            _state[block] |= verified ? (byte)(Received | Verified) : Received;
            ReceivedCount++;
            VerifiedCount += verified ? 1 : 0;
            if (!_contributors.Contains(peer))
            {
                _contributors.Add(peer);
            }
        }
        else if ((_state[block] & RequestCountMask) == 0)
        {
            UnrequestedCount++;
        }
    }

    /// <summary>Drops every request (releasing each requester's count); used when the piece leaves the picker.</summary>
    public void ReleaseAll()
    {
        for (int block = 0; block < BlockCount; block++)
        {
            RemoveAllRequests(block, except: null, cancels: null);
        }
    }

    /// <summary>Enumerates the peers holding requests in this piece, with the blocks they hold.</summary>
    public IEnumerable<(int Block, PickerPeer Peer)> Requests()
    {
        for (int i = 0; i < _requesters.Length; i++)
        {
            if (_requesters[i] is { } peer)
            {
                yield return (i / PiecePicker.MaxRequestsPerBlock, peer);
            }
        }
    }
}

/// <summary>A request to cancel because the block arrived from someone else.</summary>
/// <param name="Peer">The peer that still has the request.</param>
/// <param name="Block">The block.</param>
internal readonly record struct PieceCancel(PickerPeer Peer, BlockRequest Block);
