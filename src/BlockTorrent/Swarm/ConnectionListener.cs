using System.Net;
using System.Net.Sockets;
using BlockTorrent.Wire;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Swarm;

/// <summary>
/// Accepts peer connections on the client's listen socket, reads each handshake and hands the connection to the
/// swarm whose info-hash it names; connections for unknown torrents, or that do not handshake within ten seconds,
/// are closed.
/// </summary>
/// <remarks>
/// Sockets that connect and say nothing must not keep honest peers out: at most <see cref="MaxPendingHandshakes"/>
/// handshakes are in progress at once, at most <see cref="MaxPendingHandshakesPerAddress"/> from one address (other
/// than this machine's own), and when all are taken a newcomer displaces the oldest one that has waited
/// <see cref="MinEvictableAge"/>: an honest peer sends its handshake as soon as it connects, so only the silent ones
/// grow old.
/// </remarks>
internal sealed class ConnectionListener : IAsyncDisposable
{
    /// <summary>The most connections accepted but not yet handshaken; a newcomer beyond it displaces the oldest, or is closed.</summary>
    public const int MaxPendingHandshakes = 64;

    /// <summary>The most handshakes in progress from one address, except from this machine's own address.</summary>
    public const int MaxPendingHandshakesPerAddress = 8;

    /// <summary>How long a handshake must have waited before a newcomer may displace it.</summary>
    public static readonly TimeSpan MinEvictableAge = TimeSpan.FromSeconds(1);

    /// <summary>How long an accepted connection has to send its handshake.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly Func<ReadOnlyMemory<byte>, TorrentSwarm?> _route;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time;
    private readonly Task _accept;

    // The handshakes in progress, oldest first, and how many come from each address (under _pending's lock).
    private readonly LinkedList<PendingHandshake> _pending = new();
    private readonly Dictionary<IPAddress, int> _pendingPerAddress = [];

    public ConnectionListener(IPEndPoint endPoint, Func<ReadOnlyMemory<byte>, TorrentSwarm?> route, ILogger logger, TimeProvider time, string? congestionControl = null)
    {
        _route = route;
        _time = time;
        _logger = logger;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
        {
            _socket.DualMode = true;
        }

        try
        {
            // Linux copies the listener's algorithm to every connection it accepts, and a refused one fails the
            // client's construction rather than each connection.
            PeerSockets.SetCongestionControl(_socket, congestionControl);
            _socket.Bind(endPoint);
            _socket.Listen(512);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        Log.Listening(logger, LocalEndPoint);
        _accept = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Gets the bound address and port.</summary>
    public IPEndPoint LocalEndPoint { get; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _accept.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // A connection reset before it was accepted, or descriptors ran out: keep listening.
                Log.IncomingRefused(_logger, null, e.SocketErrorCode.ToString());
                continue;
            }

            if (TryAdmit(client) is not { } pending)
            {
                client.Dispose();
                continue;
            }

            client.NoDelay = true;
            _ = HandshakeAsync(client, pending);
        }
    }

    /// <summary>
    /// Takes a pending-handshake slot for a connection just accepted, displacing the oldest handshake when all are
    /// taken; returns null (the connection is to be closed) when its address holds its share or no handshake is old
    /// enough to displace.
    /// </summary>
    private LinkedListNode<PendingHandshake>? TryAdmit(Socket client)
    {
        if (client.RemoteEndPoint is not IPEndPoint remote)
        {
            return null;
        }

        IPAddress address = PeerAddress.Normalize(remote.Address);
        bool sameHost = PeerAddress.IsSameHost(client.LocalEndPoint as IPEndPoint, remote);
        long now = _time.GetTimestamp();
        LinkedListNode<PendingHandshake>? displaced = null;
        LinkedListNode<PendingHandshake> admitted;
        lock (_pending)
        {
            if (!sameHost && _pendingPerAddress.GetValueOrDefault(address) >= MaxPendingHandshakesPerAddress)
            {
                Log.TooManyPendingHandshakesFromAddress(_logger, remote, MaxPendingHandshakesPerAddress);
                return null;
            }

            if (_pending.Count >= MaxPendingHandshakes)
            {
                displaced = _pending.First!;
                if (_time.GetElapsedTime(displaced.Value.Started, now) < MinEvictableAge)
                {
                    Log.TooManyPendingHandshakes(_logger, remote, MaxPendingHandshakes);
                    return null;
                }

                RemoveLocked(displaced);
            }

            admitted = _pending.AddLast(new PendingHandshake(address, now, new CancellationTokenSource()));
            _pendingPerAddress[address] = _pendingPerAddress.GetValueOrDefault(address) + 1;
        }

        if (displaced is not null)
        {
            SwarmMetrics.PeersEvicted.Add(1, new KeyValuePair<string, object?>("reason", "handshake-slots"));
            displaced.Value.Displace.Cancel();
        }

        return admitted;
    }

    private void RemoveLocked(LinkedListNode<PendingHandshake> node)
    {
        _pending.Remove(node);
        IPAddress address = node.Value.Address;
        if (_pendingPerAddress[address] == 1)
        {
            _pendingPerAddress.Remove(address);
        }
        else
        {
            _pendingPerAddress[address]--;
        }
    }

    private async Task HandshakeAsync(Socket client, LinkedListNode<PendingHandshake> pending)
    {
        try
        {
            await HandshakeCoreAsync(client, pending.Value.Displace.Token).ConfigureAwait(false);
        }
        finally
        {
            lock (_pending)
            {
                if (pending.List is not null)
                {
                    RemoveLocked(pending);
                }
            }

            pending.Value.Displace.Dispose();
        }
    }

    private async Task HandshakeCoreAsync(Socket client, CancellationToken displaced)
    {
        EndPoint? remote = client.RemoteEndPoint;
        Stream? stream = null;
        string? refusal;
        try
        {
            using var deadline = new CancellationTokenSource(HandshakeTimeout, _time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, deadline.Token, displaced);

            // TLS and plain peers share the port: a TLS record cannot start like a BitTorrent handshake.
            TorrentSwarm? tlsSwarm = null;
            if (await SwarmTls.StartsWithTlsAsync(client, timeout.Token).ConfigureAwait(false))
            {
                (stream, tlsSwarm) = await SwarmTls.AcceptAsync(client, _route, timeout.Token).ConfigureAwait(false);
            }
            else
            {
                stream = new NetworkStream(client, ownsSocket: true);
            }

            PeerHandshake? handshake = await PeerDialer.ReceiveHandshakeAsync(stream, timeout.Token).ConfigureAwait(false);
            TorrentSwarm? swarm = handshake is null ? null : _route(handshake.InfoHash.ToArray());
            if (swarm is null)
            {
                refusal = handshake is null ? "not a BitTorrent handshake" : "unknown info-hash";
            }
            else if (swarm != tlsSwarm && (swarm.Tls is not null || tlsSwarm is not null))
            {
                // A TLS torrent takes only peers its authority admitted, and only for itself.
                refusal = tlsSwarm is null ? "a plain connection for a TLS torrent" : "a handshake for another torrent than the TLS server name";
            }
            else
            {
                await swarm.AcceptAsync(client, stream, handshake!).ConfigureAwait(false);
                return;
            }
        }
        catch (OperationCanceledException)
        {
            refusal = displaced.IsCancellationRequested ? "displaced by a newer connection while all handshake slots were taken" : "no handshake in time";
        }
        catch (SocketException e)
        {
            refusal = e.SocketErrorCode.ToString();
        }
        catch (IOException e)
        {
            refusal = e.Message;
        }
        catch (System.Security.Authentication.AuthenticationException e)
        {
            refusal = e.Message;
        }
        catch (ObjectDisposedException)
        {
            refusal = "closed";
        }

        Log.IncomingRefused(_logger, remote, refusal);
        stream?.Dispose();
        client.Dispose();
    }

    /// <summary>A handshake in progress: where it comes from, since when, and how to displace it.</summary>
    private sealed record PendingHandshake(IPAddress Address, long Started, CancellationTokenSource Displace);
}
