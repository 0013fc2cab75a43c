using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Wire;

/// <summary>
/// Accepts incoming peer connections on a TCP port, reads each peer's handshake (within
/// <see cref="PeerConnectionOptions.HandshakeTimeout"/>), finds the torrent by the info-hash it names (v1 or
/// truncated v2) through an <see cref="IIncomingPeerHandler"/>, answers, and hands over the connection.
/// </summary>
/// <remarks>
/// At most <see cref="MaxPendingHandshakes"/> handshakes run at once; connections beyond that are closed at once,
/// so a flood of idle sockets cannot exhaust memory or descriptors.
/// </remarks>
internal sealed class PeerListener : IAsyncDisposable
{
    /// <summary>The most incoming handshakes in progress at once.</summary>
    public const int MaxPendingHandshakes = 64;

    private readonly IPEndPoint _endPoint;
    private readonly IIncomingPeerHandler _handler;
    private readonly PeerConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private int _pending;

    /// <summary>Initializes a new listener; call <see cref="Start"/> to bind and listen.</summary>
    /// <param name="endPoint">The address and port to listen on (port 0 picks a free one).</param>
    /// <param name="handler">Finds torrents and takes accepted connections.</param>
    /// <param name="options">The connection settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    public PeerListener(IPEndPoint endPoint, IIncomingPeerHandler handler, PeerConnectionOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(handler);
        options ??= PeerConnectionOptions.Default;
        options.Validate();
        _endPoint = endPoint;
        _handler = handler;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the address and port listened on, once started.</summary>
    /// <exception cref="InvalidOperationException">The listener has not been started.</exception>
    public IPEndPoint LocalEndPoint => (IPEndPoint?)_listener?.LocalEndPoint ?? throw new InvalidOperationException("The listener has not been started.");

    /// <summary>Binds, listens and begins accepting.</summary>
    /// <exception cref="SocketException">The address cannot be bound (in use, not local).</exception>
    /// <exception cref="InvalidOperationException">The listener was already started.</exception>
    public void Start()
    {
        if (_listener is not null)
        {
            throw new InvalidOperationException("The listener was already started.");
        }

        var listener = new Socket(_endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(_endPoint);
            listener.Listen(128);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        Log.Listening(_logger, listener.LocalEndPoint);
        _acceptLoop = AcceptLoopAsync(listener);
    }

    /// <summary>Stops accepting and waits for the accept loop to end. Handshakes in progress are abandoned.</summary>
    /// <returns>A task that completes when the listener is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        _listener?.Dispose();
        await _acceptLoop.ConfigureAwait(false);
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
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
                Log.AcceptFailed(_logger, listener.LocalEndPoint, e);
                continue;
            }

            if (Interlocked.Increment(ref _pending) > MaxPendingHandshakes)
            {
                Interlocked.Decrement(ref _pending);
                Log.TooManyPendingHandshakes(_logger, socket.RemoteEndPoint, MaxPendingHandshakes);
                socket.Dispose();
                continue;
            }

            _ = HandshakeAsync(socket);
        }
    }

    private async Task HandshakeAsync(Socket socket)
    {
        EndPoint? remote = socket.RemoteEndPoint;
        try
        {
            PeerConnection.ConfigureSocket(socket, _options);
            byte[] buffer = new byte[PeerHandshake.Size];
            PeerHandshake local, remoteHandshake;
            using (var timeout = new CancellationTokenSource(_options.HandshakeTimeout, _options.TimeProvider))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, timeout.Token))
            {
                string what = $"The handshake with {remote}";
                await PeerConnection.WithTimeout(PeerConnection.ReceiveExactlyAsync(socket, buffer.AsMemory(0, PeerHandshake.SizeBeforePeerId), linked.Token), _stopping.Token, what).ConfigureAwait(false);
                local = Answer(buffer, remote);

                // Answer before reading the peer id: BEP 3 lets the initiator wait for our info-hash first.
                local.WriteTo(buffer);
                await PeerConnection.WithTimeout(PeerConnection.SendAllAsync(socket, buffer, linked.Token), _stopping.Token, what).ConfigureAwait(false);
                await PeerConnection.WithTimeout(PeerConnection.ReceiveExactlyAsync(socket, buffer.AsMemory(PeerHandshake.SizeBeforePeerId), linked.Token), _stopping.Token, what).ConfigureAwait(false);
                PeerHandshake.TryReadHeader(buffer, out HandshakeFeatures features, out _);
                remoteHandshake = new PeerHandshake(features, local.InfoHash, buffer.AsSpan(PeerHandshake.SizeBeforePeerId));
            }

            PeerConnection connection = PeerConnection.CreateIncoming(socket, local, remoteHandshake, _options, _logger);
            Interlocked.Decrement(ref _pending);
            _handler.OnAccepted(connection);
            return;
        }
        catch (Exception e) when (e is SocketException or TimeoutException or PeerProtocolException or OperationCanceledException or ObjectDisposedException)
        {
            Log.IncomingHandshakeFailed(_logger, remote, e);
        }

        Interlocked.Decrement(ref _pending);
        socket.Dispose();
    }

    // Reads the peer's protocol, reserved bytes and info-hash (in 'buffer') and finds our answer.
    private PeerHandshake Answer(byte[] buffer, EndPoint? remote)
    {
        if (!PeerHandshake.TryReadHeader(buffer, out HandshakeFeatures features, out ReadOnlySpan<byte> infoHash))
        {
            throw new PeerProtocolException(WireError.InvalidHandshake, $"Peer {remote} did not send a BitTorrent handshake.");
        }

        return _handler.GetHandshake(infoHash, features)
            ?? throw new PeerProtocolException(WireError.UnknownInfoHash, $"Peer {remote} asked for info-hash {Convert.ToHexStringLower(infoHash)}, which is not served here.");
    }
}
