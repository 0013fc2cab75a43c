using System.Threading.Channels;
using BlockTorrent.Buffers;
using BlockTorrent.Devices;
using BlockTorrent.Diagnostics;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Writing;

/// <summary>
/// Checks what a re-imaged target already holds while its swarm runs: each piece-aligned region is read once, in
/// ascending order on all cores, and hashed; a piece found in place is on the device at once (announced and served),
/// a piece whose bytes sit in another region is copied locally, and a piece found nowhere is wanted from peers at once.
/// </summary>
/// <remarks>
/// <para>
/// Invariant: nothing is written to a region before it was read and indexed, nor while a pending copy still has to read
/// it. A piece (with every duplicate of it, since the writer writes them together) is therefore handed to the swarm,
/// or copied, only once all of its regions are checked and none of them is another piece's pending source. Until then
/// the picker does not know the piece exists: it never requests a piece not yet checked, because fetching it would
/// spend the network on bytes the disk may already hold, and writing it could destroy the only copy of another piece.
/// </para>
/// <para>
/// Moves are resolved as memmove does: content shifted toward the end of the disk is a chain of copies that unwinds
/// from its far end once the scan has passed it; a cycle (pieces that swapped places) is broken by holding one piece in
/// memory (at most <see cref="MaxHeldPieces"/> at once; beyond that, the piece is fetched instead). Content shifted toward
/// the start is found when the scan reaches it; the piece is then taken back from the swarm unless its download
/// has started, so some of it may be fetched. Only piece-aligned offsets of the image are searched: a shift by a
/// multiple of the piece length is found, any other shift is not (that would take a rolling hash at every offset).
/// </para>
/// <para>
/// A piece found nowhere so far may still sit in a region the scan has not reached. So a piece found missing is
/// deferred, and handed to the swarm only when the link needs it: once the scan is over; or while the download of
/// what is wanted, deferred and (at the rate pieces were found missing so far) still to be found would take the link
/// at least as long as the rest of the scan (the link is then the bottleneck, and waiting would cost time); or, until
/// the link's rate is known, one piece at a time, so the first byte comes at once. A fast link thus fetches the
/// missing pieces toward the end of the scan, when few regions are left that could hold them, and a slow one from
/// the start. The link's rate is the best measured over 50 ms spells in which pieces were wanted, from the first byte on.
/// </para>
/// <para>
/// Given the manifest the target was last deployed with (<see cref="PreviousImageHint"/>), the check needs no such
/// guess: the regions where the hint expects a change are read first, a piece found missing whose bytes no old region
/// held is wanted at once, and one the hint places in other regions is wanted once those are read without finding it.
/// What is fetched then depends on the disk's content alone, not on how fast the disk or the link is.
/// </para>
/// <para>
/// The scan's workers are threads of their own, not the thread pool's: reading and hashing a disk keeps every core
/// busy, and on the pool it would starve the swarm's socket work, delaying the first byte by the pool's slow growth.
/// </para>
/// </remarks>
internal sealed class BackgroundCheck
{
    /// <summary>The most pieces held in memory at once to break cycles of moves.</summary>
    public const int MaxHeldPieces = 8;

    // Content of a region that holds no piece of the image, and of a region of zeros.
    private const int NoPiece = -1;
    private const int Zeros = -2;

    /// <summary>How long the link is watched busy for one measure of its rate.</summary>
    private static readonly TimeSpan RateWindow = TimeSpan.FromMilliseconds(50);

    private readonly IImageManifest _manifest;
    private readonly IBlockDevice _device;
    private readonly PieceWriter _writer;
    private readonly PieceContentIndex? _index;
    private readonly PreviousImageHint? _hint;
    private readonly int[]? _unreadExpected;
    private readonly ICheckTarget _target;
    private readonly ILogger _logger;
    private readonly int _parallelism;
    private readonly Lock _sync = new();
    private readonly PieceGroups _groups;
    private readonly bool[] _scanned;
    private readonly int[] _pendingReads;
    private readonly int[] _source;
    private readonly int[] _contentOf;
    private readonly byte[]?[] _held;
    private readonly GroupState[] _state;
    private readonly Channel<int> _copies = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TimeProvider _time;
    private readonly Queue<int> _deferred = new();
    private int _deferredCount;
    private int _missing;
    private long _scanStarted;
    private long _lastSample;
    private long _lastBytes;
    private bool _lastBusy;
    private long _windowTicks;
    private long _windowBytes;
    private double _linkRate;
    private int _queued;
    private int _heldCount;
    private int _checked;
    private int _found;
    private int _copied;
    private bool _scanDone;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="manifest">The image.</param>
    /// <param name="device">The target (the writer's device).</param>
    /// <param name="writer">The deployment's writer: pieces found are marked on it, copies go through it.</param>
    /// <param name="index">The hash index that finds moved pieces, or <see langword="null"/> to check pieces in place only.</param>
    /// <param name="target">The swarm.</param>
    /// <param name="logger">Where to log.</param>
    /// <param name="parallelism">How many regions are read and hashed at once.</param>
    /// <param name="time">The clock that paces the hand-over of missing pieces, or <see langword="null"/> for the system's.</param>
    /// <param name="hint">Where the previous image's manifest expects each piece's bytes, or <see langword="null"/> when it is not known.</param>
    public BackgroundCheck(IImageManifest manifest, IBlockDevice device, PieceWriter writer, PieceContentIndex? index, ICheckTarget target, ILogger logger, int parallelism, TimeProvider? time = null, PreviousImageHint? hint = null)
    {
        _time = time ?? TimeProvider.System;
        _manifest = manifest;
        _device = device;
        _writer = writer;
        _index = index;
        _target = target;
        _logger = logger;
        _parallelism = Math.Max(1, parallelism);
        int count = manifest.PieceCount;
        _scanned = new bool[count];
        _pendingReads = new int[count];
        _source = new int[count];
        _held = new byte[]?[count];
        _state = new GroupState[count];
        _contentOf = new int[count];
        Array.Fill(_source, NoPiece);
        Array.Fill(_contentOf, NoPiece);

        _groups = new PieceGroups(manifest);
        if (hint is not null)
        {
            _hint = hint;
            _unreadExpected = new int[count];
            for (int region = 0; region < count; region++)
            {
                if (hint.ExpectedAt(region) is int piece and >= 0)
                {
                    _unreadExpected[piece]++;
                }
            }
        }
    }

    private enum GroupState : byte
    {
        /// <summary>Not all of its regions are checked and free, or it is not known to be missing yet.</summary>
        Waiting,

        /// <summary>Queued to be copied from another region, or from memory.</summary>
        Copying,

        /// <summary>Found nowhere on the target so far; handed to the swarm when the link needs it.</summary>
        Deferred,

        /// <summary>Found nowhere on the target so far, and the hint expects its bytes in a region not yet read.</summary>
        Expected,

        /// <summary>Handed to the swarm to fetch.</summary>
        Wanted,

        /// <summary>Every copy is on the device.</summary>
        Done,
    }

    /// <summary>Gets the number of regions checked so far.</summary>
    public int Checked => Volatile.Read(ref _checked);

    /// <summary>Gets the number of pieces found in place, with the right bytes.</summary>
    public int Found => Volatile.Read(ref _found);

    /// <summary>Gets the number of pieces written from bytes found elsewhere on the target (moved pieces and their duplicates).</summary>
    public int Copied => Volatile.Read(ref _copied);

    /// <summary>Gets a value indicating whether the check has finished (every region read, every copy made).</summary>
    public bool IsCompleted { get; private set; }

    /// <summary>Runs the check to its end, then tells the swarm (<see cref="ICheckTarget.CheckCompleted"/>).</summary>
    /// <param name="cancellationToken">Stops the check.</param>
    /// <returns>A task that completes when every region is checked and every local copy made; faults with the device's error.</returns>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task scan = Task.Run(() => ScanAsync(failed.Token), CancellationToken.None);
        Task copies = CopyLoopAsync(failed.Token);
        try
        {
            await Task.WhenAll(scan, copies).ConfigureAwait(false);
        }
        catch (Exception) when (!failed.IsCancellationRequested)
        {
            // One side failed: stop the other, and report the failure rather than the cancellation it caused.
            await failed.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(scan, copies).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }

        ThrowIfUnresolved();

        // Every copy is made, so no region is anyone's source any more: zero pieces may be zeroed now.
        await _writer.SatisfyZeroPiecesAsync(cancellationToken).ConfigureAwait(false);
        lock (_sync)
        {
            for (int piece = 0; piece < _manifest.PieceCount; piece++)
            {
                if (_manifest.IsZeroPiece(piece) && _writer.HasPiece(piece))
                {
                    _target.OnDevice(piece, found: false);
                }
            }

            IsCompleted = true;
            _target.CheckCompleted();
        }

        Log.BackgroundCheckCompleted(_logger, _device.Name, Checked, Found, Copied);
    }

    private async Task ScanAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var pool = new AlignedBufferPool(_manifest.PieceLength);
            int next = -1;
            lock (_sync)
            {
                _scanStarted = _time.GetTimestamp();
            }

            var workers = new Task[Math.Min(_parallelism, _manifest.PieceCount)];
            for (int w = 0; w < workers.Length; w++)
            {
                workers[w] = Task.Factory.StartNew(
                    () =>
                    {
                        AlignedBuffer buffer = pool.Rent();
                        try
                        {
                            int slot;
                            while ((slot = Interlocked.Increment(ref next)) < _manifest.PieceCount)
                            {
                                cancellationToken.ThrowIfCancellationRequested();
                                int region = _hint is null ? slot : _hint.ScanOrder[slot];
                                OnScanned(region, ReadRegion(region, buffer.Memory, cancellationToken));
                            }
                        }
                        finally
                        {
                            pool.Return(buffer);
                        }
                    },
                    cancellationToken,
                    TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach,
                    TaskScheduler.Default);
            }

            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        finally
        {
            lock (_sync)
            {
                _scanDone = true;
                ReleaseDeferredLocked();
            }

            // Wakes the copy loop to resolve what only the end of the scan can: cycles, and the end itself.
            _copies.Writer.TryWrite(NoPiece);
        }
    }

    /// <summary>Reads a region and says whose bytes it holds: a canonical piece, <see cref="Zeros"/> or <see cref="NoPiece"/>.</summary>
    private int ReadRegion(int region, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int canonical = _manifest.GetCanonicalPiece(region);
        if (_writer.HasPiece(region))
        {
            // Verified earlier in this run (a resume file's piece): its region holds its own bytes.
            return _manifest.IsZeroPiece(region) ? Zeros : canonical;
        }

        int size = _manifest.GetPieceSize(region);
        long offset = _manifest.GetPieceOffset(region);
        if (offset + size > _device.Length)
        {
            return NoPiece;
        }

        Memory<byte> data = buffer[..size];
        int done = 0;
        while (done < size)
        {
            // On the worker's own thread: a read that does not complete at once is waited for here.
            ValueTask<int> read = _device.ReadAsync(offset + done, data[done..], cancellationToken);
            int n = read.IsCompletedSuccessfully ? read.Result : read.AsTask().GetAwaiter().GetResult();
            if (n <= 0)
            {
                return NoPiece;
            }

            done += n;
        }

        BlockTorrentMetrics.PiecesChecked.Add(1);
        if (!data.Span.ContainsAnyExcept((byte)0))
        {
            return Zeros;
        }

        if (_index is null)
        {
            return !_manifest.IsZeroPiece(region) && _manifest.VerifyPiece(region, data.Span) ? canonical : NoPiece;
        }

        return _index.Find(data.Span);
    }

    private void OnScanned(int region, int content)
    {
        lock (_sync)
        {
            _scanned[region] = true;
            _contentOf[region] = content;
            _checked++;
            int expected = _hint?.ExpectedAt(region) ?? NoPiece;
            if (expected >= 0)
            {
                _unreadExpected![expected]--;
            }

            bool zeroPiece = _manifest.IsZeroPiece(region);
            int group = zeroPiece ? NoPiece : _manifest.GetCanonicalPiece(region);
            if ((zeroPiece && content == Zeros) || (!zeroPiece && content == group))
            {
                if (_writer.MarkFound(region))
                {
                    _found++;
                    _target.OnDevice(region, found: true);
                }
            }

            if (content >= 0)
            {
                OfferSourceLocked(content, region);
            }

            EvaluateLocked(group);
            if (expected >= 0)
            {
                // The region expected to hold these bytes did not (or they were offered above): wanted once no other might.
                WantIfNotExpectedLocked(expected);
            }

            SampleLinkLocked();
            ReleaseDeferredLocked();
        }
    }

    /// <summary>Records that <paramref name="region"/> holds the bytes of group <paramref name="group"/>, if the group still needs them.</summary>
    private void OfferSourceLocked(int group, int region)
    {
        if (_source[group] >= 0 || _held[group] is not null || IsCompleteLocked(group))
        {
            return;
        }

        if (_state[group] == GroupState.Deferred)
        {
            // Still ours: the swarm never heard of it (its stale entry in the queue is skipped).
            _deferredCount--;
            _missing--;
            _state[group] = GroupState.Waiting;
        }
        else if (_state[group] == GroupState.Expected)
        {
            _state[group] = GroupState.Waiting;
        }
        else if (_state[group] == GroupState.Wanted)
        {
            if (!_target.TryWithdraw(group))
            {
                return;
            }

            _missing--;
            _state[group] = GroupState.Waiting;
        }

        if (_state[group] != GroupState.Waiting)
        {
            return;
        }

        _source[group] = region;
        _pendingReads[region]++;
        EvaluateLocked(group);
    }

    /// <summary>Moves a waiting group on once it can be written: done, copied locally, or wanted from peers.</summary>
    private void EvaluateLocked(int group)
    {
        if (group < 0 || _state[group] != GroupState.Waiting)
        {
            return;
        }

        bool missing = false;
        for (int member = group; member >= 0; member = _groups.Next(member))
        {
            if (_writer.HasPiece(member))
            {
                continue;
            }

            // A region not yet read may hold another piece; one a pending copy reads must keep its bytes until then.
            if (!_scanned[member] || _pendingReads[member] > 0)
            {
                return;
            }

            missing = true;
        }

        if (!missing)
        {
            _state[group] = GroupState.Done;
            ReleaseSourceLocked(group);
            return;
        }

        if (_source[group] >= 0 || _held[group] is not null)
        {
            _state[group] = GroupState.Copying;
            _queued++;
            _copies.Writer.TryWrite(group);
        }
        else if (_hint is not null)
        {
            _state[group] = GroupState.Expected;
            WantIfNotExpectedLocked(group);
        }
        else
        {
            _state[group] = GroupState.Deferred;
            _deferred.Enqueue(group);
            _deferredCount++;
            _missing++;
            ReleaseDeferredLocked();
        }
    }

    /// <summary>Hands a piece found missing to the swarm once no unread region is expected to hold its bytes.</summary>
    private void WantIfNotExpectedLocked(int group)
    {
        if (_state[group] == GroupState.Expected && (_unreadExpected![group] <= 0 || _scanDone))
        {
            _state[group] = GroupState.Wanted;
            _target.Want(group);
        }
    }

    /// <summary>Hands deferred pieces to the swarm, oldest first, while the link needs them (see the remarks on the class).</summary>
    private void ReleaseDeferredLocked()
    {
        while (_deferredCount > 0 && ShouldReleaseLocked())
        {
            int group = _deferred.Dequeue();
            if (_state[group] != GroupState.Deferred)
            {
                continue;
            }

            _deferredCount--;
            _state[group] = GroupState.Wanted;
            _target.Want(group);
        }
    }

    private bool ShouldReleaseLocked()
    {
        if (_scanDone)
        {
            return true;
        }

        int wanted = _target.PiecesWanted;
        if (_linkRate <= 0 || _checked == 0)
        {
            // The link's rate is not known yet: one piece at a time, which also measures it.
            return wanted == 0;
        }

        int left = _manifest.PieceCount - _checked;
        double scanLeft = _time.GetElapsedTime(_scanStarted).TotalSeconds * left / _checked;
        double stillToFind = (double)_missing * left / _checked;
        double bytes = (wanted + _deferredCount + stillToFind) * _manifest.PieceLength;
        return bytes / _linkRate >= scanLeft;
    }

    /// <summary>
    /// Measures the link: the bytes received over windows of <see cref="RateWindow"/> during which pieces were wanted,
    /// from the interval the first byte came in (the time before it is connecting, not transferring). The link's rate
    /// is the best window's: with one piece in flight a window sees the round trips more than the link, and a link
    /// given more shows what it can carry.
    /// </summary>
    private void SampleLinkLocked()
    {
        long now = _time.GetTimestamp();
        long bytes = _target.BytesDownloaded;
        if (_lastSample != 0 && _lastBusy && (_lastBytes > 0 || bytes > _lastBytes))
        {
            _windowTicks += now - _lastSample;
            _windowBytes += bytes - _lastBytes;
            TimeSpan window = _time.GetElapsedTime(0, _windowTicks);
            if (window >= RateWindow)
            {
                _linkRate = Math.Max(_linkRate, _windowBytes / window.TotalSeconds);
                _windowTicks = 0;
                _windowBytes = 0;
            }
        }

        _lastSample = now;
        _lastBytes = bytes;
        _lastBusy = _target.PiecesWanted > 0;
    }

    private void ReleaseSourceLocked(int group)
    {
        int source = _source[group];
        _source[group] = NoPiece;
        if (_held[group] is not null)
        {
            _held[group] = null;
            _heldCount--;
        }

        if (source >= 0 && --_pendingReads[source] == 0)
        {
            EvaluateLocked(_manifest.IsZeroPiece(source) ? NoPiece : _manifest.GetCanonicalPiece(source));
        }
    }

    private bool IsCompleteLocked(int group)
    {
        for (int member = group; member >= 0; member = _groups.Next(member))
        {
            if (!_writer.HasPiece(member))
            {
                return false;
            }
        }

        return true;
    }

    private async Task CopyLoopAsync(CancellationToken cancellationToken)
    {
        using var buffer = new AlignedBufferPool(_manifest.PieceLength);
        AlignedBuffer memory = buffer.Rent();
        try
        {
            while (await _copies.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (_copies.Reader.TryRead(out int group))
                {
                    if (group >= 0)
                    {
                        await CopyAsync(group, memory.Memory, cancellationToken).ConfigureAwait(false);
                    }
                }

                int blocked;
                lock (_sync)
                {
                    if (!_scanDone || _queued > 0)
                    {
                        continue;
                    }

                    blocked = FindBlockedLocked();
                    if (blocked < 0)
                    {
                        return;
                    }
                }

                await BreakCycleAsync(blocked, memory.Memory, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            buffer.Return(memory);
        }
    }

    /// <summary>
    /// Once the scan is over and no copy is queued, a group still waiting is blocked by a cycle of moves: returns a
    /// group whose source region someone else waits for, or -1 when none is (the check is over).
    /// </summary>
    private int FindBlockedLocked()
    {
        int group = NoPiece;
        for (int g = 0; g < _state.Length && group < 0; g++)
        {
            if (_state[g] == GroupState.Waiting && _source[g] >= 0)
            {
                group = g;
            }
        }

        // Follow "waits for the region that group reads" until a group repeats: that one is on a cycle, and holding
        // it frees the whole cycle. (A group merely leading into a cycle would stay held until the cycle is broken.)
        var seen = new HashSet<int>();
        while (group >= 0 && seen.Add(group))
        {
            int next = NoPiece;
            for (int member = group; member >= 0 && next < 0; member = _groups.Next(member))
            {
                if (!_writer.HasPiece(member) && _pendingReads[member] > 0 && _contentOf[member] >= 0 && _source[_contentOf[member]] == member)
                {
                    next = _contentOf[member];
                }
            }

            if (next < 0)
            {
                return group;
            }

            group = next;
        }

        return group;
    }

    /// <summary>At the end, every piece is on the device or wanted from peers: a piece left waiting would never complete.</summary>
    private void ThrowIfUnresolved()
    {
        lock (_sync)
        {
            for (int group = 0; group < _state.Length; group++)
            {
                if (_state[group] is GroupState.Waiting or GroupState.Copying or GroupState.Deferred or GroupState.Expected
                    && !_manifest.IsZeroPiece(group) && _manifest.GetCanonicalPiece(group) == group && !IsCompleteLocked(group))
                {
                    throw new InvalidOperationException($"Piece {group} of '{_manifest.Name}' was left neither on the device nor wanted by the check of '{_device.Name}'.");
                }
            }
        }
    }

    /// <summary>Frees a region a blocked copy reads: its bytes are held in memory, or, beyond the limit, the piece is fetched.</summary>
    private async Task BreakCycleAsync(int group, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int source;
        bool hold;
        lock (_sync)
        {
            source = _source[group];
            hold = _heldCount < MaxHeldPieces;
        }

        byte[]? held = null;
        if (hold)
        {
            int size = _manifest.GetPieceSize(group);
            Memory<byte> data = buffer[..size];
            if (await ReadExactlyAsync(source, data, cancellationToken).ConfigureAwait(false) && _manifest.VerifyPiece(group, data.Span))
            {
                held = data.ToArray();
            }
        }

        lock (_sync)
        {
            _source[group] = NoPiece;
            if (held is not null)
            {
                _held[group] = held;
                _heldCount++;
            }

            if (--_pendingReads[source] == 0)
            {
                EvaluateLocked(_manifest.IsZeroPiece(source) ? NoPiece : _manifest.GetCanonicalPiece(source));
            }

            EvaluateLocked(group);
        }
    }

    private async Task CopyAsync(int group, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int source;
        byte[]? held;
        var missing = new List<int>();
        lock (_sync)
        {
            source = _source[group];
            held = _held[group];
            for (int member = group; member >= 0; member = _groups.Next(member))
            {
                if (!_writer.HasPiece(member))
                {
                    missing.Add(member);
                }
            }
        }

        int size = _manifest.GetPieceSize(group);
        ReadOnlyMemory<byte> data = held;
        bool ok = held is not null || await ReadExactlyAsync(source, buffer[..size], cancellationToken).ConfigureAwait(false);
        if (held is null)
        {
            data = buffer[..size];
        }

        // The writer verifies the bytes against the manifest before it writes them anywhere.
        PieceWriteResult result = ok
            ? await _writer.WriteAsync(group, data, source: null, cancellationToken).ConfigureAwait(false)
            : new PieceWriteResult(group, PieceWriteStatus.HashMismatch, null, 0);
        lock (_sync)
        {
            _queued--;
            _state[group] = GroupState.Waiting;
            if (result.Status != PieceWriteStatus.HashMismatch)
            {
                foreach (int member in missing)
                {
                    if (_writer.HasPiece(member))
                    {
                        _copied++;
                        _target.OnDevice(member, found: false);
                    }
                }
            }
            else
            {
                Log.LocalCopyMismatch(_logger, group, source, _device.Name);
            }

            // Done when every copy is on the device; else (the source no longer held the bytes) fetched from peers.
            ReleaseSourceLocked(group);
            EvaluateLocked(group);
        }
    }

    private async Task<bool> ReadExactlyAsync(int region, Memory<byte> data, CancellationToken cancellationToken)
    {
        long offset = _manifest.GetPieceOffset(region);
        int done = 0;
        while (done < data.Length)
        {
            int n = await _device.ReadAsync(offset + done, data[done..], cancellationToken).ConfigureAwait(false);
            if (n <= 0)
            {
                return false;
            }

            done += n;
        }

        return true;
    }
}
