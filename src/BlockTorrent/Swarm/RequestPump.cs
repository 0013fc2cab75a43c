using BlockTorrent.Swarm.Bandwidth;
using BlockTorrent.Wire;
using BlockTorrent.Writing;

namespace BlockTorrent.Swarm;

/// <summary>
/// One peer's request pump: keeps the peer's request pipeline as deep as its <see cref="RequestQueue"/> says,
/// requesting blocks of pieces already in memory right where blocks arrive (the receive loop), and starting new
/// pieces, which waits for memory from the writer, on a loop of its own.
/// </summary>
/// <remarks>
/// What to request is the picker's decision, made under the swarm's lock: the swarm calls
/// <see cref="RequestLocked"/> from <see cref="ISessionHost.RequestBlocks"/> and <see cref="ISessionHost.StartPiece"/>.
/// Timeouts are the swarm's tick: a pipeline that does not move for the request timeout is released and reset.
/// </remarks>
internal sealed class RequestPump
{
    private readonly PeerSession _session;
    private readonly ISessionHost _host;
    private readonly AsyncSignal _signal = new();

    // Reused for every batch (only under the swarm's lock), so requesting allocates nothing.
    private readonly BlockRequest[] _picked;

    // Wakes the pump when a capped download may request again (created when the first request waits for the bucket).
    private ITimer? _refill;

    /// <summary>Initializes a new instance of the <see cref="RequestPump"/> class.</summary>
    /// <param name="session">The peer's session.</param>
    /// <param name="host">The swarm.</param>
    public RequestPump(PeerSession session, ISessionHost host)
    {
        _session = session;
        _host = host;
        SwarmSettings settings = host.Settings;
        Queue = new RequestQueue(4, settings.MaxRequestQueueDepth, settings.RequestQueueTime, host.Time.GetTimestamp(), host.Time.TimestampFrequency);
        _picked = new BlockRequest[settings.MaxRequestQueueDepth];
    }

    /// <summary>Gets the pipeline's depth.</summary>
    public RequestQueue Queue { get; }

    /// <summary>Wakes the pump (something may be requestable now).</summary>
    public void Signal() => _signal.Set();

    /// <summary>Stops the pump's loop.</summary>
    public void Complete()
    {
        _signal.Complete();
        Interlocked.Exchange(ref _refill, null)?.Dispose();
    }

    /// <summary>Starts pieces whenever signalled, until the session closes.</summary>
    /// <param name="cancellationToken">The session's token.</param>
    /// <returns>A task that completes when the loop ends.</returns>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _signal.WaitAsync().ConfigureAwait(false))
            {
                await FillAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Closed.
        }
        catch (ObjectDisposedException)
        {
            // The writer was disposed: the deployment ended.
        }
        catch (InvalidOperationException) when (_host.IsStopping)
        {
            // The writer stopped accepting pieces: the deployment ended.
        }
    }

    /// <summary>
    /// After a batch of received messages that delivered blocks: refills the pipeline right here on the receive
    /// loop (one lock and one batch of requests per read, no hop to the pump), waking the pump only when a new
    /// piece must be started.
    /// </summary>
    public void RefillAfterBlocks()
    {
        if (_host.RequestBlocks(_session))
        {
            Signal();
        }
    }

    /// <summary>
    /// Requests blocks of started pieces up to the pipeline depth; called by the swarm under its lock. Returns
    /// <see langword="true"/> when the pipeline still has room, so a new piece should be started (which needs memory
    /// from the writer: the pump does that).
    /// </summary>
    /// <param name="picker">The swarm's picker.</param>
    /// <returns>Whether a new piece should be started.</returns>
    public bool RequestLocked(PiecePicker picker)
    {
        PeerSession s = _session;
        PickerPeer pick = s.Pick;
        if (!s.GotPieces)
        {
            return false;
        }

        s.UpdateInterest(picker.IsInteresting(pick) || pick.Outstanding > 0);
        if (!s.AmInterested || (pick.IsChokingUs && pick.AllowedFast.Count == 0) || _host.IsStopping)
        {
            return false;
        }

        int room = Math.Min(Queue.Depth, _picked.Length) - pick.Outstanding;
        if (room <= 0)
        {
            return false;
        }

        // A capped download asks for no more than the bucket allows: the requests, not the socket, set the rate, so
        // blocks are never left unread in the kernel while their requests time out.
        RateLimit limit = _host.Download;
        int affordable = room;
        if (limit.IsLimited)
        {
            double available = limit.Available;
            affordable = available <= 0 ? 0 : (int)Math.Min(room, Math.Ceiling(available / PiecePicker.BlockSize));
            if (affordable == 0)
            {
                WakeWhenAffordable(limit);
                return false;
            }
        }

        bool wasIdle = pick.Outstanding == 0;
        int n = picker.PickBlocks(pick, _picked.AsSpan(0, affordable));
        long asked = 0;
        for (int i = 0; i < n; i++)
        {
            s.Send(new Outgoing(MessageId.Request, _picked[i]));
            asked += _picked[i].Length;
        }

        if (limit.IsLimited && n > 0)
        {
            limit.Take(asked);
        }

        if (affordable < room && n == affordable)
        {
            // The bucket, not the picker, ran out: no new piece until it refills.
            WakeWhenAffordable(limit);
            return false;
        }

        if (n > 0 && wasIdle)
        {
            s.LastProgress = _host.Time.GetTimestamp();
        }

        return n < room;
    }

    private void WakeWhenAffordable(RateLimit limit)
    {
        ITimer? timer = _refill;
        if (timer is null)
        {
            timer = _host.Time.CreateTimer(static p => ((RequestPump)p!).Signal(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (Interlocked.CompareExchange(ref _refill, timer, null) is not null)
            {
                timer.Dispose();
                return;
            }
        }

        timer.Change(limit.TimeUntil(PiecePicker.BlockSize) + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
    }

    private async Task FillAsync(CancellationToken ct)
    {
        while (!_session.IsClosed)
        {
            int piece = _host.StartPiece(_session, out CancellationToken interrupt);
            if (piece < 0)
            {
                return;
            }

            PieceBuffer buffer;
            try
            {
                // The swarm's interrupt token alone: it is cancelled when blocks are released, when any session
                // closes (this one included) and when the swarm stops, so no linked source is needed per rent.
                buffer = await _host.RentAsync(piece, interrupt).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // Blocks were released elsewhere while we waited for memory: give the piece back and pick again.
                _host.AbandonPiece(piece);
                continue;
            }
            catch
            {
                _host.AbandonPiece(piece);
                throw;
            }

            _host.PieceReady(piece, buffer);
        }
    }
}
