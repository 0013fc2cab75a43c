using System.Net;
using System.Net.Sockets;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm;

/// <summary>
/// Dialling: the peers remembered from every source (<see cref="PeerCandidates"/>) are dialled while there is room
/// for more connections, each dial ending in a registered session or in a back-off before the next attempt.
/// </summary>
internal sealed partial class TorrentSwarm
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly PeerCandidates _candidates;

    /// <summary>Adds peers to connect to that the user named (<c>--peer</c>).</summary>
    public void AddCandidates(IEnumerable<IPEndPoint> peers) => AddCandidates(peers, source: null, trusted: true);

    /// <summary>Adds peers to connect to from a source we trust to name peers: trackers, LSD.</summary>
    /// <param name="peers">The peers.</param>
    /// <param name="source">The address of the tracker or LSD announcer that named them; null for the user's own.</param>
    public void AddCandidates(IEnumerable<IPEndPoint> peers, IPAddress? source) => AddCandidates(peers, source, trusted: true);

    /// <summary>Adds peers another peer named (PEX): filtered by its address, and never in the slots kept for trusted sources.</summary>
    private void AddExchangedCandidates(IPEndPoint source, IEnumerable<IPEndPoint> peers) => AddCandidates(peers, source.Address, trusted: false);

    /// <summary>Adds peers to connect to, filtered by the address of the host that named them (<see cref="PeerCandidates.Add"/>).</summary>
    /// <param name="peers">The peers.</param>
    /// <param name="source">The address of the host that named them, or null for the user's own.</param>
    /// <param name="trusted">Whether that host is a tracker, LSD or the user, not a peer (PEX).</param>
    public void AddCandidates(IEnumerable<IPEndPoint> peers, IPAddress? source, bool trusted)
    {
        lock (Sync)
        {
            _candidates.Add(peers, source, trusted);
        }

        ConnectToCandidates();
    }

    private void ConnectToCandidates()
    {
        List<IPEndPoint> targets;
        lock (Sync)
        {
            if (IsStopping)
            {
                return;
            }

            // Peers from trusted sources may fill every slot a trusted peer does not hold (a newcomer takes the slot of
            // a peer that gives nothing); others only the unreserved slots others do not hold (ConnectionSlots).
            int max = Settings.MaxConnectionsPerTorrent;
            int reservedSessions = _sessions.Count(s => s.Reserved);
            int reservedRoom = max - reservedSessions - _candidates.Connecting;
            int room = max - ConnectionSlots.ReservedFor(max) - (_sessions.Count - reservedSessions) - _candidates.Connecting;
            targets = _candidates.TakeDue(Time.GetTimestamp(), reservedRoom, room, IsBannedOrConnectedLocked);
        }

        foreach (IPEndPoint target in targets)
        {
            _ = ConnectAsync(target);
        }
    }

    // A peer that dialled us is connected from an ephemeral port: its extended handshake names the port it listens on.
    private bool IsBannedOrConnectedLocked(IPEndPoint endPoint) =>
        _banned.IsBanned(endPoint) || _sessions.Exists(s => s.Remote.Equals(endPoint) || endPoint.Equals(s.ListenEndPoint));

    private async Task ConnectAsync(IPEndPoint endPoint)
    {
        Socket? socket = null;
        Stream? stream = null;
        bool registered = false;
        string? failure = null;
        try
        {
            using var deadline = new CancellationTokenSource(ConnectTimeout, Time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, deadline.Token);
            (socket, stream, PeerHandshake? remote) = await PeerDialer.DialAsync(
                endPoint,
                Settings.TcpCongestionControl,
                new PeerHandshake(_features, _handshakeHash, _host.PeerId.Span),
                Tls is { } tls ? async (s, ct) => await tls.ConnectAsync(s, ct).ConfigureAwait(false) : null,
                timeout.Token).ConfigureAwait(false);
            if (remote is null || !Matches(remote.InfoHash))
            {
                failure = "the peer did not answer with this torrent's handshake";
            }
            else
            {
                bool reserved;
                lock (Sync)
                {
                    reserved = _candidates.IsReserved(endPoint);
                }

                registered = Register(socket, stream, remote, outgoing: true, reserved);
                failure = registered ? null : "not registered (ourselves, banned, duplicate, or no slot)";
            }
        }
        catch (OperationCanceledException)
        {
            failure = "timed out";
        }
        catch (SocketException e)
        {
            failure = e.SocketErrorCode.ToString();
        }
        catch (IOException e)
        {
            failure = e.Message;
        }
        catch (System.Security.Authentication.AuthenticationException e)
        {
            failure = e.Message;
        }
        catch (ObjectDisposedException)
        {
            // The swarm stopped while we dialled: nothing else observes this task, so it must not fault.
            failure = "stopped";
        }
        finally
        {
            if (!registered)
            {
                stream?.Dispose();
                socket?.Dispose();
            }

            lock (Sync)
            {
                _candidates.DialEnded(endPoint, registered, Time.GetTimestamp(), Time.TimestampFrequency);
            }
        }

        if (failure is not null)
        {
            Log.ConnectFailed(Logger, endPoint, failure);
        }
    }
}
