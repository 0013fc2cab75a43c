using System.Runtime.CompilerServices;
using BlockTorrent.Swarm.Bandwidth;
using BlockTorrent.Wire;
using BlockTorrent.Writing;

namespace BlockTorrent.Swarm;

/// <summary>
/// Web seeds (BEP 19): HTTP(S) servers holding the image, which fill in where the peers fall short. A web seed
/// starts a piece when no connected peer has it, or any piece while the peers together deliver less than
/// <see cref="WebSeedPolicy.PeersBelow"/>; it fetches the piece in one range request straight into the piece's buffer,
/// block by block under the same claims as a peer's blocks, and the piece is committed, verified and written (or
/// rejected) exactly like a peer's. Zero pieces and later copies of duplicates are never wanted, so never fetched.
/// </summary>
internal sealed partial class TorrentSwarm
{
    private const int WebSeedFetchesPerUrl = 2;
    private static readonly TimeSpan WebSeedPoll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan WebSeedMaxBackoff = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan WebSeedVerdictWait = TimeSpan.FromSeconds(10);

    private readonly List<WebSeed> _webSeeds = [];

    // The pieces a web seed fetched, by index, until they are verified or rejected: a web seed starts its next piece
    // only then, so one sending wrong bytes is dropped after the limit, not after the writer's whole in-flight budget.
    private readonly Dictionary<int, TaskCompletionSource> _webSeedVerdicts = [];
    private Task _webSeedLoops = Task.CompletedTask;
    private long _webSeedBytes;
    private long _peerRateSampledAt;
    private long _peerRateBytes;
    private double _peerRate;

    /// <summary>Gets when and through what the swarm uses its manifest's web seeds; set before <see cref="Start"/>.</summary>
    public WebSeedPolicy? WebSeeding { get; init; }

    /// <summary>Gets the bytes fetched from web seeds.</summary>
    public long WebSeedBytes => Interlocked.Read(ref _webSeedBytes);

    /// <summary>Starts a deployment's web seeds, if it has any.</summary>
    private void StartWebSeeds()
    {
        if (Writer is null || WebSeeding is not { } policy || policy.Urls.Count == 0)
        {
            return;
        }

        var loops = new List<Task>();
        foreach (Uri url in policy.Urls)
        {
            var seed = new WebSeed(url, Manifest.Name, policy.Http, PieceCount);
            lock (Sync)
            {
                _webSeeds.Add(seed);
            }

            for (int i = 0; i < WebSeedFetchesPerUrl; i++)
            {
                loops.Add(Task.Run(() => FetchFromWebSeedAsync(seed, policy)));
            }
        }

        _peerRateSampledAt = Time.GetTimestamp();
        _webSeedLoops = Task.WhenAll(loops);
    }

    /// <summary>Tells the web seed that fetched a piece that it was verified or rejected.</summary>
    private void OnWebSeedVerdictLocked(int piece)
    {
        if (_webSeedVerdicts.Remove(piece, out TaskCompletionSource? verdict))
        {
            verdict.TrySetResult();
        }
    }

    /// <summary>Counts a failed piece against the web seed that sent it alone, dropping it at the peers' limit.</summary>
    /// <returns>Whether <paramref name="contributor"/> is a web seed.</returns>
    private bool OnWebSeedHashFailureLocked(PickerPeer contributor)
    {
        WebSeed? seed = _webSeeds.Find(s => ReferenceEquals(s.Pick, contributor));
        if (seed is null)
        {
            return false;
        }

        if (++seed.HashFailures >= Settings.MaxHashFailuresPerPeer && !seed.IsDropped)
        {
            seed.IsDropped = true;
            Log.WebSeedDropped(Logger, seed.Url, seed.HashFailures);
            _host.Publish(new SwarmEvent(SwarmEventKind.PeerBanned, InfoHashText) { Detail = $"web seed {seed.Url}: {seed.HashFailures} pieces failed their hash" });
        }

        return true;
    }

    private async Task FetchFromWebSeedAsync(WebSeed seed, WebSeedPolicy policy)
    {
        CancellationToken ct = _stop.Token;
        using var rateDelay = new RateDelay(Time);
        byte[] discard = new byte[PiecePicker.BlockSize];
        var blocks = new BlockRequest[(Manifest.PieceLength + PiecePicker.BlockSize - 1) / PiecePicker.BlockSize];
        long started = Time.GetTimestamp();
        TimeSpan backoff = TimeSpan.Zero;
        try
        {
            while (!IsStopping && !seed.IsDropped && !_completed.Task.IsCompleted)
            {
                int piece = Time.GetElapsedTime(started) < policy.Delay ? -1 : StartWebSeedPiece(seed, policy);
                if (piece < 0)
                {
                    await Task.Delay(WebSeedPoll, Time, ct).ConfigureAwait(false);
                    continue;
                }

                PieceBuffer buffer;
                try
                {
                    buffer = await Writer!.RentAsync(piece, ct).ConfigureAwait(false);
                }
                catch
                {
                    AbandonPiece(piece);
                    throw;
                }

                int count;
                var verdict = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                lock (Sync)
                {
                    if (!Picker!.MarkReady(piece))
                    {
                        buffer.Dispose();
                        continue;
                    }

                    Buffers[piece] = buffer;
                    count = Picker.PickPiece(seed.Pick, piece, blocks);
                    _webSeedVerdicts[piece] = verdict;
                    CommitIfLocalLocked(piece);
                }

                try
                {
                    await FetchBlocksAsync(seed, new ArraySegment<BlockRequest>(blocks, 0, count), discard, rateDelay, ct).ConfigureAwait(false);
                    backoff = TimeSpan.Zero;

                    // Bounded: a block a peer was delivering when the web seed reached it may never arrive.
                    await verdict.Task.WaitAsync(WebSeedVerdictWait, Time, ct).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // The piece is still incomplete: go on with the next.
                    lock (Sync)
                    {
                        _webSeedVerdicts.Remove(piece);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    lock (Sync)
                    {
                        _webSeedVerdicts.Remove(piece);
                        for (int i = 0; i < count; i++)
                        {
                            Picker!.ReleaseRequest(seed.Pick, blocks[i]);
                        }

                        InterruptRentsLocked();
                    }

                    backoff = backoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(WebSeedMaxBackoff.Ticks, backoff.Ticks * 2));
                    Log.WebSeedFailed(Logger, seed.Url, piece, e.Message, backoff.TotalSeconds);
                    await Task.Delay(backoff, Time, ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The swarm stopped.
        }
        catch (ObjectDisposedException)
        {
            // The writer was disposed: the deployment ended.
        }
        catch (InvalidOperationException) when (IsStopping)
        {
            // The writer stopped accepting pieces: the deployment ended.
        }
    }

    /// <summary>Starts the piece the web seed should fetch next, or none while the peers can serve what is wanted.</summary>
    private int StartWebSeedPiece(WebSeed seed, WebSeedPolicy policy)
    {
        lock (Sync)
        {
            // Read under the lock that counts hash failures: a fetch loop woken by the verdict that dropped its seed
            // must not start one more piece.
            if (seed.IsDropped)
            {
                return -1;
            }

            PiecePicker picker = Picker!;
            bool slow = PeersSlowLocked(policy);
            int piece = picker.StartPiece(seed.Pick);
            if (piece >= 0 && picker.Availability(piece) > 0 && !slow)
            {
                picker.AbandonPiece(piece);
                return -1;
            }

            return piece;
        }
    }

    /// <summary>Whether the peers together deliver less than the policy's rate, measured over the last second or so.</summary>
    private bool PeersSlowLocked(WebSeedPolicy policy)
    {
        long now = Time.GetTimestamp();
        TimeSpan elapsed = Time.GetElapsedTime(_peerRateSampledAt, now);
        if (elapsed >= TimeSpan.FromSeconds(1))
        {
            long peerBytes = BytesDownloaded - WebSeedBytes;
            _peerRate = (peerBytes - _peerRateBytes) / elapsed.TotalSeconds;
            _peerRateBytes = peerBytes;
            _peerRateSampledAt = now;
        }

        return _peerRate < policy.PeersBelow;
    }

    /// <summary>
    /// Reads the blocks' range from the web seed into the piece buffer, each block claimed first as a peer's block is
    /// (one a peer already delivered is read past), paced by the download cap.
    /// </summary>
    private async Task FetchBlocksAsync(WebSeed seed, ArraySegment<BlockRequest> blocks, byte[] discard, RateDelay rateDelay, CancellationToken ct)
    {
        if (blocks.Count == 0)
        {
            return;
        }

        BlockRequest first = blocks[0];
        BlockRequest last = blocks[^1];
        long offset = Manifest.GetPieceOffset(first.Piece) + first.Offset;
        int length = last.Offset + last.Length - first.Offset;
        using HttpResponseMessage response = await seed.GetRangeAsync(offset, length, ct).ConfigureAwait(false);
        Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable bodyScope = body.ConfigureAwait(false);
        int at = first.Offset;
        foreach (BlockRequest block in blocks)
        {
            if (block.Offset > at)
            {
                await SkipAsync(body, block.Offset - at, discard, ct).ConfigureAwait(false);
            }

            if (Download.IsLimited)
            {
                await rateDelay.WaitAsync(Download.Take(block.Length), ct).ConfigureAwait(false);
            }

            Memory<byte> destination = BeginWebSeedBlock(seed, block);
            bool claimed = !destination.IsEmpty;
            try
            {
                await body.ReadExactlyAsync(claimed ? destination : discard.AsMemory(0, block.Length), ct).ConfigureAwait(false);
            }
            catch when (claimed)
            {
                EndWebSeedBlock(seed, block, success: false);
                throw;
            }

            if (claimed)
            {
                Interlocked.Add(ref _webSeedBytes, block.Length);
                CountDownload(block.Length);
                EndWebSeedBlock(seed, block, success: true);
            }

            at = block.Offset + block.Length;
        }
    }

    private static async Task SkipAsync(Stream body, int bytes, byte[] discard, CancellationToken ct)
    {
        while (bytes > 0)
        {
            int n = Math.Min(bytes, discard.Length);
            await body.ReadExactlyAsync(discard.AsMemory(0, n), ct).ConfigureAwait(false);
            bytes -= n;
        }
    }

    private Memory<byte> BeginWebSeedBlock(WebSeed seed, BlockRequest block)
    {
        lock (Sync)
        {
            return ClaimBlockLocked(seed.Pick, block);
        }
    }

    private void EndWebSeedBlock(WebSeed seed, BlockRequest block, bool success)
    {
        lock (Sync)
        {
            if (!success)
            {
                Picker!.EndReceive(seed.Pick, block, success: false, cancels: null);
            }
            else if (ReceiveBlockLocked(seed.Pick, block))
            {
                CommitLocked(block.Piece);
            }
        }
    }

    /// <summary>Claims an arriving block of a peer or web seed: the slice of its piece's buffer to copy it into, or empty when refused.</summary>
    private Memory<byte> ClaimBlockLocked(PickerPeer from, BlockRequest block)
    {
        if (Picker is { } picker && picker.TryBeginReceive(from, block))
        {
            if (Buffers.TryGetValue(block.Piece, out PieceBuffer? buffer))
            {
                return buffer.Memory.Slice(block.Offset, block.Length);
            }

            picker.EndReceive(from, block, success: false, cancels: null);
        }

        return default;
    }

    /// <summary>Records a claimed block as received, cancelling it at the other peers that were asked; returns whether its piece is complete.</summary>
    private bool ReceiveBlockLocked(PickerPeer from, BlockRequest block)
    {
        _cancels.Clear();
        bool complete = Picker!.EndReceive(from, block, success: true, _cancels);
        foreach (PieceCancel cancel in _cancels)
        {
            SendCancelLocked(cancel);
        }

        return complete;
    }
}
