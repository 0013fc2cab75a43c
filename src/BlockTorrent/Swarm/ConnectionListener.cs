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
internal sealed class ConnectionListener : IAsyncDisposable
{
    /// <summary>The most connections accepted but not yet handshaken; more are closed at once, so a flood of idle sockets costs little.</summary>
    public const int MaxPendingHandshakes = 64;

    /// <summary>How long an accepted connection has to send its handshake.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly Func<ReadOnlyMemory<byte>, TorrentSwarm?> _route;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time;
    private readonly Task _accept;
    private int _pending;

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

            if (Interlocked.Increment(ref _pending) > MaxPendingHandshakes)
            {
                Interlocked.Decrement(ref _pending);
                Log.TooManyPendingHandshakes(_logger, client.RemoteEndPoint, MaxPendingHandshakes);
                client.Dispose();
                continue;
            }

            client.NoDelay = true;
            _ = HandshakeAsync(client);
        }
    }

    private async Task HandshakeAsync(Socket client)
    {
        try
        {
            await HandshakeCoreAsync(client).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    private async Task HandshakeCoreAsync(Socket client)
    {
        EndPoint? remote = client.RemoteEndPoint;
        Stream? stream = null;
        string? refusal;
        try
        {
            using var deadline = new CancellationTokenSource(HandshakeTimeout, _time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, deadline.Token);

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
            refusal = "no handshake in time";
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
}
