using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm;

/// <summary>
/// Decides which blocks to request from which peer: rarest piece first (random among equals), preferring the extent
/// a peer is already working in so writes stay large and sequential, finishing started pieces before starting new
/// ones, and folding the endgame in (a block may be requested from at most <see cref="MaxRequestsPerBlock"/> peers,
/// and only in the endgame: once every wanted piece is started and nothing unrequested is left for that peer).
/// </summary>
/// <remarks>
/// <para>
/// Only pieces in <see cref="Wanted"/> are ever picked. For an image that is every canonical, non-zero piece not yet
/// on the device: all-zero pieces and later copies of a duplicate are satisfied locally by the writer and never
/// travel. A piece is picked only from a peer that has it and either unchokes us or allows it fast.
/// </para>
/// <para>
/// Starting a piece is two-step because its buffer comes from the writer's bounded pool: <see cref="StartPiece"/>
/// reserves a piece (no other peer starts it), the caller rents the buffer, then <see cref="MarkReady"/> opens its
/// blocks for requests (or <see cref="AbandonPiece"/> gives it back). Not thread-safe: the swarm serialises calls.
/// </para>
/// </remarks>
internal sealed class PiecePicker
{
    /// <summary>The request size every client uses (BEP 3).</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>The most peers one block is requested from at once (endgame duplicates included).</summary>
    public const int MaxRequestsPerBlock = 2;

    // Enough for every piece that leaves the picker to be reused by the next one started; more only holds memory.
    private const int MaxSpareProgress = 64;

    private readonly Func<int, int> _pieceSize;
    private readonly int[] _availability;
    private readonly Bitfield _wanted;
    private readonly Bitfield _have;
    private readonly Bitfield _active;
    private readonly Bitfield _candidates;
    private readonly Dictionary<int, PieceProgress> _progress = [];
    private readonly List<PieceProgress> _ordered = [];

    // Progress of pieces that left the picker, reused for the next pieces started (at most MaxSpareProgress).
    private readonly Stack<PieceProgress> _spare = new();
    private readonly HashSet<int> _pendingExclusive = [];
    private readonly HashSet<int> _fetchWhole = [];
    private readonly int _blocksPerPiece;
    private readonly int _extentPieces;
    private readonly Random _random;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="pieceCount">The number of pieces.</param>
    /// <param name="pieceSize">The size of piece <c>i</c>.</param>
    /// <param name="wanted">The pieces to fetch (copied).</param>
    /// <param name="pieceLength">The nominal piece length, for the extent size.</param>
    /// <param name="extentBytes">The extent a peer's consecutive pieces are taken from.</param>
    /// <param name="random">The tie-breaker, or <see langword="null"/> for a shared one.</param>
    public PiecePicker(int pieceCount, Func<int, int> pieceSize, Bitfield wanted, int pieceLength, int extentBytes = 4 * 1024 * 1024, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(pieceSize);
        ArgumentNullException.ThrowIfNull(wanted);
        if (wanted.Length != pieceCount)
        {
            throw new ArgumentException($"The wanted set covers {wanted.Length} pieces, not {pieceCount}.", nameof(wanted));
        }

        PieceCount = pieceCount;
        _pieceSize = pieceSize;
        _availability = new int[pieceCount];
        _wanted = new Bitfield(wanted);
        _have = new Bitfield(pieceCount);
        _active = new Bitfield(pieceCount);
        _candidates = new Bitfield(pieceCount);
        _extentPieces = Math.Max(1, extentBytes / Math.Max(1, pieceLength));
        _blocksPerPiece = Math.Max(1, pieceLength / BlockSize);
        _random = random ?? Random.Shared;
    }

    /// <summary>Gets the number of pieces.</summary>
    public int PieceCount { get; }

    /// <summary>Gets the pieces still to fetch from peers.</summary>
    public Bitfield Wanted => _wanted;

    /// <summary>Gets the pieces we have (announced to peers).</summary>
    public Bitfield Have => _have;

    /// <summary>
    /// Gets or sets the window of a stream-format deployment: when set, pieces are started only inside it, the
    /// decoder's next piece first, then rarest first with the lowest index among equals; the endgame is reached once
    /// every wanted piece in the window is started. <see langword="null"/> (an image written in any order): anywhere.
    /// </summary>
    public StreamWindow? Window { get; set; }

    /// <summary>
    /// Gets or sets the zero and repeated 16 KiB blocks inside pieces (the manifest's <see cref="BlockMap"/>), or
    /// <see langword="null"/>. When a piece is started, its zero blocks, and its blocks that repeat a block of the same
    /// piece or of a piece we have, are marked local (<see cref="PieceProgress.MarkLocal"/>): never requested, filled in
    /// by the swarm before the piece is committed and verified whole.
    /// </summary>
    public BlockMap? Blocks { get; set; }

    /// <summary>Gets the number of pieces started and not yet finished.</summary>
    public int ActiveCount => _progress.Count;

    /// <summary>Gets a value indicating whether nothing is left to fetch.</summary>
    public bool IsComplete => _wanted.IsEmpty;

    /// <summary>Creates a picker that wants every canonical, non-zero piece of an image not in <paramref name="have"/>.</summary>
    /// <param name="manifest">The image.</param>
    /// <param name="have">Pieces already on the device, or <see langword="null"/>.</param>
    /// <param name="extentBytes">The extent size for affinity.</param>
    /// <param name="random">The tie-breaker.</param>
    /// <returns>The picker.</returns>
    public static PiecePicker ForManifest(IImageManifest manifest, Bitfield? have = null, int extentBytes = 4 * 1024 * 1024, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var wanted = new Bitfield(manifest.PieceCount);
        for (int i = 0; i < manifest.PieceCount; i++)
        {
            if (!manifest.IsZeroPiece(i) && manifest.GetCanonicalPiece(i) == i)
            {
                wanted.Set(i);
            }
        }

        var picker = new PiecePicker(manifest.PieceCount, manifest.GetPieceSize, wanted, manifest.PieceLength, extentBytes, random);
        if (have is not null)
        {
            foreach (int piece in have.SetIndices())
            {
                picker.MarkHave(piece);
            }
        }

        return picker;
    }

    /// <summary>Gets how many connected peers have a piece.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns>The peer count.</returns>
    public int Availability(int piece) => _availability[piece];

    /// <summary>Counts a peer's pieces into the availability (after its bitfield or have-all).</summary>
    /// <param name="peer">The peer, whose <see cref="PickerPeer.Has"/> is filled in.</param>
    public void AddPeer(PickerPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        for (int i = peer.Has.NextSet(0); i >= 0; i = peer.Has.NextSet(i + 1))
        {
            _availability[i]++;
        }
    }

    /// <summary>Records a have message: the peer gained a piece.</summary>
    /// <param name="peer">The peer.</param>
    /// <param name="piece">The piece index (validated by the caller).</param>
    public void PeerHave(PickerPeer peer, int piece)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (peer.Has.Set(piece))
        {
            _availability[piece]++;
        }

        peer.Partial?.Remove(piece);
    }

    /// <summary>
    /// Records a block-relaying peer's announcement of the verified blocks it holds of a piece it does not hold whole
    /// (docs/BLOCK-RELAY.md): its blocks may be picked from it from then on. Availability counts whole pieces only.
    /// </summary>
    /// <param name="peer">The peer.</param>
    /// <param name="blocks">The announcement, its piece and bitmap already checked against the torrent.</param>
    /// <returns><see langword="false"/> when it was dropped: we or the peer hold the piece whole, or the peer's bound on pieces is reached.</returns>
    public bool PeerHasBlocks(PickerPeer peer, BlockHaveMessage blocks)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(blocks);
        if (peer.Has[blocks.Piece] || _have[blocks.Piece])
        {
            return false;
        }

        PartialHoldings partial = peer.Partial ??= new PartialHoldings();
        if (partial.Count >= partial.MaxPieces && !partial.HasAny(blocks.Piece))
        {
            partial.Prune(piece => _have[piece] || !_wanted[piece]);
        }

        return partial.Add(blocks);
    }

    /// <summary>Forgets a peer that left: its pieces leave the availability and its requests are released.</summary>
    /// <param name="peer">The peer.</param>
    /// <returns>The bytes its released requests asked for.</returns>
    public long RemovePeer(PickerPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        for (int i = peer.Has.NextSet(0); i >= 0; i = peer.Has.NextSet(i + 1))
        {
            _availability[i]--;
        }

        ReleaseRequests(peer, out long bytes);
        foreach (PieceProgress p in _ordered)
        {
            if (ReferenceEquals(p.ExclusivePeer, peer))
            {
                p.ExclusivePeer = null;
            }
        }

        return bytes;
    }

    /// <summary>
    /// Forgets every outstanding request of a peer (it choked us, stalled or left) so other peers can be asked.
    /// Blocks already arriving from it are not affected.
    /// </summary>
    /// <param name="peer">The peer.</param>
    /// <returns>The number of requests released.</returns>
    public int ReleaseRequests(PickerPeer peer) => ReleaseRequests(peer, out _);

    /// <summary>Forgets every outstanding request of a peer, as <see cref="ReleaseRequests(PickerPeer)"/>, saying how many bytes they asked for.</summary>
    /// <param name="peer">The peer.</param>
    /// <param name="bytes">The bytes the released requests asked for.</param>
    /// <returns>The number of requests released.</returns>
    public int ReleaseRequests(PickerPeer peer, out long bytes)
    {
        ArgumentNullException.ThrowIfNull(peer);
        int released = 0;
        bytes = 0;
        if (peer.Outstanding == 0)
        {
            return 0;
        }

        foreach (PieceProgress p in _ordered)
        {
            for (int b = 0; b < p.BlockCount && peer.Outstanding > 0; b++)
            {
                if (p.RemoveRequest(b, peer))
                {
                    released++;
                    bytes += Math.Min(p.BlockSize, p.Size - (b * p.BlockSize));
                }
            }
        }

        return released;
    }

    /// <summary>Forgets one request (the peer rejected it, or we cancelled it).</summary>
    /// <param name="peer">The peer.</param>
    /// <param name="block">The block.</param>
    /// <returns><see langword="true"/> when the peer had that request.</returns>
    public bool ReleaseRequest(PickerPeer peer, BlockRequest block)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (!_progress.TryGetValue(block.Piece, out PieceProgress? p))
        {
            return false;
        }

        int b = p.BlockIndexOf(block.Offset, block.Length);
        return b >= 0 && p.RemoveRequest(b, peer);
    }

    /// <summary>
    /// Records that a piece is on the device (downloaded, or satisfied locally as a zero piece or duplicate, or
    /// proven by resume): it is no longer wanted and any progress on it is dropped.
    /// </summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when we did not have it before.</returns>
    public bool MarkHave(int piece)
    {
        _wanted.Clear(piece);
        Release(piece);
        return _have.Set(piece);
    }

    /// <summary>Forgets every wanted piece: a re-image's check hands them back one by one as it finds them missing.</summary>
    public void ClearWanted() => _wanted.ClearAll();

    /// <summary>Wants a piece (a re-image's check found it missing).</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when it was neither wanted nor had before.</returns>
    public bool AddWanted(int piece) => !_have[piece] && _wanted.Set(piece);

    /// <summary>Takes back a wanted piece that has not been started (its bytes turned up on the device).</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when it is no longer wanted; <see langword="false"/> when it was not wanted or is being fetched.</returns>
    public bool TryUnwant(int piece) => !_active[piece] && _wanted.Clear(piece);

    /// <summary>Gets a value indicating whether a peer has something we want (we are interested in it).</summary>
    /// <param name="peer">The peer.</param>
    /// <returns><see langword="true"/> when the peer has a wanted piece.</returns>
    public bool IsInteresting(PickerPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (_wanted.Intersects(peer.Has))
        {
            return true;
        }

        foreach (int piece in peer.Partial?.Pieces ?? [])
        {
            if (_wanted[piece])
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Picks blocks of started, ready pieces for a peer: unrequested blocks first (the peer's own piece, then the
    /// oldest started), then — only when the peer has no unstarted wanted piece either — endgame duplicates.
    /// </summary>
    /// <param name="peer">The peer to request from.</param>
    /// <param name="destination">Receives the blocks; its length is how many to pick at most.</param>
    /// <returns>The number of blocks picked (and recorded as requested from the peer).</returns>
    public int PickBlocks(PickerPeer peer, Span<BlockRequest> destination)
    {
        ArgumentNullException.ThrowIfNull(peer);
        int count = 0;
        if (destination.IsEmpty || _ordered.Count == 0)
        {
            return 0;
        }

        if (peer.LastPiece >= 0 && _progress.TryGetValue(peer.LastPiece, out PieceProgress? own))
        {
            count = PickUnrequested(own, peer, destination);
        }

        for (int i = 0; i < _ordered.Count && count < destination.Length; i++)
        {
            count += PickUnrequested(_ordered[i], peer, destination[count..]);
        }

        if (count < destination.Length && !HasStartable(peer) && IsEndgame())
        {
            for (int i = 0; i < _ordered.Count && count < destination.Length; i++)
            {
                count += PickDuplicates(_ordered[i], peer, destination[count..]);
            }
        }

        return count;
    }

    /// <summary>
    /// Picks the unrequested blocks of one started, ready piece for a peer, in order: a web seed fetches a whole
    /// piece in one range request.
    /// </summary>
    /// <param name="peer">The peer to request from.</param>
    /// <param name="piece">The piece.</param>
    /// <param name="destination">Receives the blocks.</param>
    /// <returns>The number of blocks picked (and recorded as requested from the peer).</returns>
    public int PickPiece(PickerPeer peer, int piece, Span<BlockRequest> destination)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return _progress.TryGetValue(piece, out PieceProgress? p) ? PickUnrequested(p, peer, destination) : 0;
    }

    /// <summary>Reserves the next piece to start for a peer (rarest first, extent affinity), or -1 when there is none.</summary>
    /// <param name="peer">The peer that will serve it.</param>
    /// <returns>The piece index, reserved but not ready until <see cref="MarkReady"/>.</returns>
    public int StartPiece(PickerPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (!FillCandidates(peer))
        {
            return -1;
        }

        int piece = ChooseRarest(peer);
        int size = _pieceSize(piece);
        PieceProgress progress;
        if (_spare.TryPeek(out PieceProgress? spare) && spare.CanHold(size))
        {
            progress = _spare.Pop();
            progress.Reset(piece, size);
        }
        else
        {
            progress = new PieceProgress(piece, size, BlockSize);
        }

        progress.Initialize();
        if (_pendingExclusive.Remove(piece))
        {
            progress.ExclusivePeer = peer;
        }

        MarkLocalBlocks(progress);
        _progress.Add(piece, progress);
        _ordered.Add(progress);
        _active.Set(piece);
        peer.LastPiece = piece;
        return piece;
    }

    /// <summary>Opens a reserved piece's blocks for requests (its buffer is ready).</summary>
    /// <param name="piece">The piece from <see cref="StartPiece"/>.</param>
    /// <returns><see langword="false"/> when the piece is no longer wanted (it was satisfied meanwhile).</returns>
    public bool MarkReady(int piece)
    {
        if (!_progress.TryGetValue(piece, out PieceProgress? p))
        {
            return false;
        }

        p.Ready = true;
        return true;
    }

    /// <summary>Gets a started piece's progress, or <see langword="null"/> when it is not started.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns>The progress; the swarm reads which blocks are local from it when it commits the piece.</returns>
    public PieceProgress? Progress(int piece) => _progress.GetValueOrDefault(piece);

    /// <summary>
    /// Ends a piece assembled with local blocks that failed its hash check, or whose local blocks could not be
    /// filled in: the map or the copied bytes may be wrong, so no peer is blamed, and the piece is wanted again and
    /// fetched whole from then on.
    /// </summary>
    /// <param name="piece">The piece index.</param>
    public void LocalFillFailed(int piece)
    {
        AbandonPiece(piece);
        _fetchWhole.Add(piece);
    }

    /// <summary>Gives a started piece back (no buffer for it, or its buffer is gone): it may be started again.</summary>
    /// <param name="piece">The piece index.</param>
    public void AbandonPiece(int piece) => Release(piece);

    /// <summary>
    /// Claims a block that is arriving so its bytes may be copied into the piece buffer. Refused for a piece that is
    /// not started and ready, an offset/length that is not one of its blocks, a block not requested from this peer, or a block
    /// already received or arriving.
    /// </summary>
    /// <param name="peer">The sender.</param>
    /// <param name="block">The block as the piece message names it.</param>
    /// <returns><see langword="true"/> when the caller may copy the block into the buffer and must then call <see cref="EndReceive(PickerPeer, BlockRequest, bool, List{PieceCancel}?)"/> (or the overload that checks the leaf hash).</returns>
    public bool TryBeginReceive(PickerPeer peer, BlockRequest block)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (!_progress.TryGetValue(block.Piece, out PieceProgress? p) || !p.Ready)
        {
            return false;
        }

        if (p.ExclusivePeer is not null && !ReferenceEquals(p.ExclusivePeer, peer))
        {
            return false;
        }

        // A block is taken only from a peer it was asked of: anyone else's copy (junk aimed at a block another peer is
        // sending) would make the piece fail its hash with no way to tell who lied.
        int b = p.BlockIndexOf(block.Offset, block.Length);
        return b >= 0 && p.IsRequestedBy(b, peer) && p.TryBeginReceive(b);
    }

    /// <summary>Finishes a claimed block: received (other requesters get a cancel) or failed (it may be requested again).</summary>
    /// <param name="peer">The sender.</param>
    /// <param name="block">The block passed to <see cref="TryBeginReceive"/>.</param>
    /// <param name="success">Whether all its bytes are in the buffer.</param>
    /// <param name="cancels">Receives the cancels to send to other peers that requested the same block.</param>
    /// <returns><see langword="true"/> when the piece is now complete and may be committed.</returns>
    public bool EndReceive(PickerPeer peer, BlockRequest block, bool success, List<PieceCancel>? cancels)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (!_progress.TryGetValue(block.Piece, out PieceProgress? p))
        {
            return false;
        }

        int b = p.BlockIndexOf(block.Offset, block.Length);
        if (b < 0 || !p.IsReceiving(b))
        {
            return false;
        }

        p.EndReceive(b, peer, success);
        if (success)
        {
            p.RemoveAllRequests(b, peer, cancels);
        }

        return p.IsComplete;
    }

    /// <summary>
    /// Finishes a claimed block whose bytes are in the piece buffer, checking them against the piece's leaf hash when
    /// its leaves are known: a block that matches is received and verified (it may be passed on); one that does not is
    /// not received, and may be requested again, and <paramref name="mismatch"/> names its sender as the culprit.
    /// Without leaves it is <see cref="EndReceive(PickerPeer, BlockRequest, bool, List{PieceCancel}?)"/> with success.
    /// </summary>
    /// <param name="peer">The sender.</param>
    /// <param name="block">The block passed to <see cref="TryBeginReceive"/>.</param>
    /// <param name="data">The block's bytes as copied into the buffer.</param>
    /// <param name="cancels">Receives the cancels to send to other peers that requested the same block.</param>
    /// <param name="mismatch">Set when the block does not match its leaf hash.</param>
    /// <returns><see langword="true"/> when the piece is now complete and may be committed.</returns>
    public bool EndReceive(PickerPeer peer, BlockRequest block, ReadOnlySpan<byte> data, List<PieceCancel>? cancels, out bool mismatch)
    {
        ArgumentNullException.ThrowIfNull(peer);
        mismatch = false;
        if (!_progress.TryGetValue(block.Piece, out PieceProgress? p) || p.Leaves is not { } leaves)
        {
            return EndReceive(peer, block, success: true, cancels);
        }

        int b = p.BlockIndexOf(block.Offset, block.Length);
        if (b < 0 || !p.IsReceiving(b))
        {
            return false;
        }

        mismatch = !leaves.Matches(b, data);
        p.EndReceive(b, peer, success: !mismatch, verified: !mismatch);
        if (mismatch)
        {
            p.RemoveRequest(b, peer);
            return false;
        }

        p.RemoveAllRequests(b, peer, cancels);
        return p.IsComplete;
    }

    /// <summary>Gives a started piece its proven leaf hashes (see <see cref="PieceProgress.SetLeaves"/>).</summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="leaves">The leaves, proven against the piece's hash.</param>
    /// <param name="buffer">The piece's buffer.</param>
    /// <returns><see langword="false"/> when the piece is not started or already has leaves.</returns>
    public bool SetLeaves(int piece, LeafHashes leaves, ReadOnlySpan<byte> buffer) =>
        _progress.TryGetValue(piece, out PieceProgress? p) && p.SetLeaves(leaves, buffer);

    /// <summary>Gets the peers whose blocks make up a completed piece (call before <see cref="PieceFinished"/>).</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns>The contributors, empty when the piece is not active.</returns>
    public IReadOnlyList<PickerPeer> Contributors(int piece) =>
        _progress.TryGetValue(piece, out PieceProgress? p) ? p.Contributors : [];

    /// <summary>
    /// Ends a completed piece: when it verified, it is had; when it failed, it is wanted again, and when exactly
    /// one peer had sent it, the next attempt may still go to anyone, but when several had, the next attempt goes
    /// to a single peer so the culprit can be named.
    /// </summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="verified">Whether the piece matched its hash.</param>
    public void PieceFinished(int piece, bool verified)
    {
        if (verified)
        {
            MarkHave(piece);
            return;
        }

        bool mixed = _progress.TryGetValue(piece, out PieceProgress? old) && old.Contributors.Count > 1;
        AbandonPiece(piece);
        if (mixed)
        {
            _pendingExclusive.Add(piece);
        }
    }

    // A started piece leaves the picker: its requests are dropped, and its progress is kept for a later piece, unless
    // it has local blocks (the swarm may still be filling them in from it while the piece is committed).
    private void Release(int piece)
    {
        if (!_progress.Remove(piece, out PieceProgress? p))
        {
            return;
        }

        p.ReleaseAll();
        _ordered.Remove(p);
        _active.Clear(piece);
        if (p.LocalCount == 0 && _spare.Count < MaxSpareProgress)
        {
            _spare.Push(p);
        }
    }

    // A repeated block is local only when its source is in this piece (a block that is fetched: sources are never
    // in the map) or in a piece we have, which the swarm can read back.
    private void MarkLocalBlocks(PieceProgress progress)
    {
        if (Blocks is not { } map || _fetchWhole.Contains(progress.Piece))
        {
            return;
        }

        int piece = progress.Piece;
        foreach ((int block, long source) in map.InPiece((long)piece * _blocksPerPiece, progress.BlockCount))
        {
            if (source == BlockMap.Zero || source / _blocksPerPiece == piece || _have[(int)(source / _blocksPerPiece)])
            {
                progress.MarkLocal(block, source);
            }
        }
    }

    private int PickUnrequested(PieceProgress p, PickerPeer peer, Span<BlockRequest> destination)
    {
        if (!p.Ready || p.UnrequestedCount == 0 || !peer.CanRequestBlocks(p.Piece) || !IsAllowedFor(p, peer))
        {
            return 0;
        }

        bool whole = peer.Has[p.Piece];
        int count = 0;
        for (int b = 0; b < p.BlockCount && count < destination.Length; b++)
        {
            if (p.RequestCount(b) == 0 && !p.IsReceived(b) && !p.IsReceiving(b) && (whole || peer.Holds(p.Piece, b)))
            {
                p.AddRequest(b, peer);
                destination[count++] = p.GetBlock(b);
            }
        }

        return count;
    }

    private int PickDuplicates(PieceProgress p, PickerPeer peer, Span<BlockRequest> destination)
    {
        if (!p.Ready || p.ExclusivePeer is not null || !peer.CanRequestBlocks(p.Piece))
        {
            return 0;
        }

        bool whole = peer.Has[p.Piece];
        int count = 0;
        for (int b = 0; b < p.BlockCount && count < destination.Length; b++)
        {
            if (p.RequestCount(b) < MaxRequestsPerBlock && !p.IsReceived(b) && !p.IsReceiving(b) && !p.IsRequestedBy(b, peer) && (whole || peer.Holds(p.Piece, b)))
            {
                p.AddRequest(b, peer);
                destination[count++] = p.GetBlock(b);
            }
        }

        return count;
    }

    /// <summary>
    /// Gets a value indicating whether the download is in its endgame: every wanted piece is started. Before that,
    /// a peer with nothing new to give gets no duplicates. Availability does not count: behind a super-seed most
    /// pieces are on no peer yet (not offered), and a target that has started everything it can see would
    /// otherwise ask the seed again for blocks other targets are already sending it, taking the seed's upload from
    /// the pieces nobody has. Requests stuck at a stalled peer are released by the stall timeout instead.
    /// </summary>
    private bool IsEndgame()
    {
        if (Window is not { } window)
        {
            return !_wanted.HasAnyNotIn(_active);
        }

        int end = Math.Min(window.End, PieceCount);
        for (int i = _wanted.NextSet(window.Start); i >= 0 && i < end; i = _wanted.NextSet(i + 1))
        {
            if (!_active[i])
            {
                return false;
            }
        }

        return true;
    }

    private bool InWindow(int piece) => Window is not { } window || window.Contains(piece);

    private static bool IsAllowedFor(PieceProgress p, PickerPeer peer) =>
        p.ExclusivePeer is null || ReferenceEquals(p.ExclusivePeer, peer);

    private bool HasStartable(PickerPeer peer)
    {
        foreach (int piece in peer.Partial?.Pieces ?? [])
        {
            if (_wanted[piece] && !_active[piece] && InWindow(piece) && (!peer.IsChokingUs || peer.AllowedFast.Contains(piece)))
            {
                return true;
            }
        }

        if (!peer.IsChokingUs)
        {
            // wanted AND peer.Has AND NOT active, without building the set.
            for (int i = _wanted.NextSetAnd(peer.Has, Window?.Start ?? 0); i >= 0; i = _wanted.NextSetAnd(peer.Has, i + 1))
            {
                if (!InWindow(i))
                {
                    return false;
                }

                if (!_active[i])
                {
                    return true;
                }
            }

            return false;
        }

        foreach (int piece in peer.AllowedFast)
        {
            if ((uint)piece < (uint)PieceCount && _wanted[piece] && !_active[piece] && peer.Has[piece] && InWindow(piece))
            {
                return true;
            }
        }

        return false;
    }

    private bool FillCandidates(PickerPeer peer)
    {
        _candidates.CopyFrom(_wanted);
        _candidates.AndNot(_active);
        _candidates.And(peer.Has);
        if (peer.IsChokingUs)
        {
            _candidates.ClearAll();
            foreach (int piece in peer.AllowedFast)
            {
                if ((uint)piece < (uint)PieceCount && _wanted[piece] && !_active[piece] && peer.Has[piece])
                {
                    _candidates.Set(piece);
                }
            }
        }

        // A piece the peer holds some blocks of may be started from it too: it gives those, others the rest.
        foreach (int piece in peer.Partial?.Pieces ?? [])
        {
            if (_wanted[piece] && !_active[piece] && (!peer.IsChokingUs || peer.AllowedFast.Contains(piece)))
            {
                _candidates.Set(piece);
            }
        }

        if (Window is { } window)
        {
            // Nothing outside the window: what does not fit in scratch waits, and the next piece is always inside.
            int start = window.Start;
            int end = Math.Min(window.End, PieceCount);
            for (int i = _candidates.NextSet(0); i >= 0; i = _candidates.NextSet(i + 1))
            {
                if (i < start || i >= end)
                {
                    _candidates.Clear(i);
                }
            }
        }

        return !_candidates.IsEmpty;
    }

    private int ChooseRarest(PickerPeer peer)
    {
        if (Window is { } window)
        {
            return ChooseInWindow(window.Start);
        }

        // Rarest first; among equally rare pieces, stay in the extent the peer is working in, else pick at random
        // (reservoir sampling), so peers spread over the image and every write run stays long.
        int min = int.MaxValue;
        int chosen = -1;
        int ties = 0;
        for (int i = _candidates.NextSet(0); i >= 0; i = _candidates.NextSet(i + 1))
        {
            int a = _availability[i];
            if (a < min)
            {
                min = a;
                chosen = i;
                ties = 1;
            }
            else if (a == min && _random.Next(++ties) == 0)
            {
                chosen = i;
            }
        }

        int affine = AffinePiece(peer, min);
        return affine >= 0 ? affine : chosen;
    }

    /// <summary>
    /// A stream's choice: the decoder's next piece when it can be started (the decoder waits for nothing else), else
    /// the rarest in the window, the lowest index among equals, so the targets of a swarm trade what they hold.
    /// </summary>
    private int ChooseInWindow(int next)
    {
        if ((uint)next < (uint)PieceCount && _candidates[next])
        {
            return next;
        }

        int min = int.MaxValue;
        int chosen = -1;
        for (int i = _candidates.NextSet(0); i >= 0; i = _candidates.NextSet(i + 1))
        {
            if (_availability[i] < min)
            {
                min = _availability[i];
                chosen = i;
            }
        }

        return chosen;
    }

    private int AffinePiece(PickerPeer peer, int availability)
    {
        if (peer.LastPiece < 0)
        {
            return -1;
        }

        int start = peer.LastPiece / _extentPieces * _extentPieces;
        int end = Math.Min(PieceCount, start + _extentPieces);
        for (int i = _candidates.NextSet(start); i >= 0 && i < end; i = _candidates.NextSet(i + 1))
        {
            if (_availability[i] == availability)
            {
                return i;
            }
        }

        return -1;
    }
}
