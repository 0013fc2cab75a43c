using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Discovery;

/// <summary>
/// A client of one UDP tracker (BEP 15): obtains a connection id, keeps it for its one-minute lifetime, and
/// retransmits unanswered requests after 15 × 2ⁿ seconds. Requests to one tracker run one at a time.
/// </summary>
internal sealed class UdpTrackerClient : ITrackerClient
{
    /// <summary>How long a connection id may be used after it was received (BEP 15).</summary>
    internal static readonly TimeSpan ConnectionIdLifetime = TimeSpan.FromMinutes(1);

    // The largest UDP payload: any datagram fits, so the kernel never truncates one.
    private const int MaxDatagram = 65536;

    private readonly TrackerClientOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly byte[] _send = new byte[16 + (20 * UdpTrackerMessages.MaxScrapeHashes)];
    private readonly byte[] _receive = new byte[MaxDatagram];
    private Socket? _socket;
    private long _connectionId;
    private long _connectionIdReceived;
    private bool _hasConnectionId;
    private bool _disposed;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="uri">The tracker, <c>udp://host:port</c> (any path is ignored).</param>
    /// <param name="options">Timeouts and bounds, or <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock for timeouts and the connection id lifetime, or <see langword="null"/> for the system clock.</param>
    public UdpTrackerClient(Uri uri, TrackerClientOptions? options = null, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || uri.Scheme != "udp" || uri.Port is < 1 or > 65535)
        {
            throw new ArgumentException($"'{uri}' is not a UDP tracker address (udp://host:port).", nameof(uri));
        }

        _options = options ?? TrackerClientOptions.Default;
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        Uri = uri;
    }

    /// <inheritdoc />
    public Uri Uri { get; }

    /// <summary>Gets how many datagrams this client has sent (for tests and diagnostics).</summary>
    internal int DatagramsSent { get; private set; }

    /// <inheritdoc />
    public async Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Socket socket = await GetSocketAsync(cancellationToken).ConfigureAwait(false);
            int length = await ExchangeAsync(
                socket,
                UdpTrackerAction.Announce,
                (buffer, connectionId, transactionId) => UdpTrackerMessages.WriteAnnounce(buffer, connectionId, transactionId, request),
                cancellationToken).ConfigureAwait(false);
            AnnounceResponse response = UdpTrackerMessages.ReadAnnounce(_receive.AsSpan(0, length), socket.AddressFamily, _options.MaxPeersPerResponse)
                ?? throw new TrackerException($"The UDP tracker {Uri} sent an announce response of {length} bytes, shorter than {UdpTrackerMessages.AnnounceResponseHeaderLength}.");
            Log.TrackerAnnounced(_logger, Uri, request.Event, response.Peers.Count, response.Interval);

            // The socket is connected to the tracker, so only the tracker's datagrams reach it.
            return response with { Source = ((IPEndPoint)socket.RemoteEndPoint!).Address };
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        var result = new Dictionary<InfoHash, ScrapeStats>();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Socket socket = await GetSocketAsync(cancellationToken).ConfigureAwait(false);
            foreach (InfoHash[] chunk in infoHashes.Chunk(UdpTrackerMessages.MaxScrapeHashes))
            {
                ReadOnlyMemory<byte>[] hashes = [.. chunk.Select(h => (ReadOnlyMemory<byte>)h.Truncated20.ToArray())];
                int length = await ExchangeAsync(
                    socket,
                    UdpTrackerAction.Scrape,
                    (buffer, connectionId, transactionId) => UdpTrackerMessages.WriteScrape(buffer, connectionId, transactionId, hashes),
                    cancellationToken).ConfigureAwait(false);
                List<ScrapeStats> stats = UdpTrackerMessages.ReadScrape(_receive.AsSpan(0, length), chunk.Length);
                for (int i = 0; i < stats.Count; i++)
                {
                    result[chunk[i]] = stats[i];
                }
            }
        }
        finally
        {
            _gate.Release();
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _socket?.Dispose();
        _gate.Dispose();
    }

    private async ValueTask<Socket> GetSocketAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_socket is not null)
        {
            return _socket;
        }

        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(Uri.DnsSafeHost, out IPAddress? literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(Uri.DnsSafeHost, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new TrackerException($"The UDP tracker {Uri} could not be resolved: {e.SocketErrorCode}.", e);
        }

        if (addresses.Length == 0)
        {
            throw new TrackerException($"The UDP tracker {Uri} has no address.");
        }

        var endPoint = new IPEndPoint(addresses[0], Uri.Port);
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // Connecting filters datagrams from anyone but the tracker, and surfaces ICMP unreachable as an error.
            socket.Connect(endPoint);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new TrackerException($"The UDP tracker {Uri} at {endPoint} is unreachable: {e.SocketErrorCode}.", e);
        }

        _socket = socket;
        return socket;
    }

    // Sends the request built by `write`, obtaining a connection id first when the one we hold is missing or
    // expired, and retransmits after 15 × 2ⁿ s. n grows only on a timeout and is shared by connect and request,
    // which is the schedule BEP 15's "announce times out" example shows. Returns the response length in _receive.
    private async Task<int> ExchangeAsync(Socket socket, UdpTrackerAction action, Func<byte[], long, int, int> write, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ;)
        {
            if (attempt > _options.UdpMaxRetransmissions)
            {
                throw new TrackerException($"The UDP tracker {Uri} did not answer after {attempt} tries.");
            }

            TimeSpan timeout = _options.UdpRetransmitTimeout * (1L << attempt);
            int transactionId = RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
            if (!_hasConnectionId || _time.GetElapsedTime(_connectionIdReceived) >= ConnectionIdLifetime)
            {
                _hasConnectionId = false;
                int connectLength = UdpTrackerMessages.WriteConnect(_send, transactionId);
                int? connected = await SendAndReceiveAsync(socket, connectLength, transactionId, UdpTrackerAction.Connect, timeout, cancellationToken).ConfigureAwait(false);
                if (connected is not int received)
                {
                    Log.UdpTrackerRetransmitting(_logger, Uri, UdpTrackerAction.Connect, attempt + 1, timeout);
                    attempt++;
                    continue;
                }

                if (!UdpTrackerMessages.TryReadConnect(_receive.AsSpan(0, received), out _connectionId))
                {
                    throw new TrackerException($"The UDP tracker {Uri} sent a connect response of {received} bytes, shorter than {UdpTrackerMessages.ConnectLength}.");
                }

                _connectionIdReceived = _time.GetTimestamp();
                _hasConnectionId = true;
                continue;
            }

            int length = write(_send, _connectionId, transactionId);
            int? answered = await SendAndReceiveAsync(socket, length, transactionId, action, timeout, cancellationToken).ConfigureAwait(false);
            if (answered is int answer)
            {
                return answer;
            }

            Log.UdpTrackerRetransmitting(_logger, Uri, action, attempt + 1, timeout);
            attempt++;
        }
    }

    // Returns the length of the matching response, or null when `timeout` passed without one.
    private async Task<int?> SendAndReceiveAsync(Socket socket, int length, int transactionId, UdpTrackerAction expected, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        try
        {
            await socket.SendAsync(_send.AsMemory(0, length), SocketFlags.None, linked.Token).ConfigureAwait(false);
            DatagramsSent++;
            while (true)
            {
                int received = await socket.ReceiveAsync(_receive.AsMemory(), SocketFlags.None, linked.Token).ConfigureAwait(false);
                ReadOnlySpan<byte> packet = _receive.AsSpan(0, received);

                // A runt, or the answer to an earlier (retransmitted) request: keep waiting for ours.
                if (!UdpTrackerMessages.TryReadHeader(packet, out UdpTrackerAction action, out int answeredId) || answeredId != transactionId)
                {
                    continue;
                }

                if (action == UdpTrackerAction.Error)
                {
                    throw new TrackerException($"The UDP tracker {Uri} refused: {UdpTrackerMessages.ReadError(packet)}") { IsFailureReason = true };
                }

                if (action != expected)
                {
                    throw new TrackerException($"The UDP tracker {Uri} answered a {expected} request with action {(int)action}.");
                }

                return received;
            }
        }
        catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (SocketException e)
        {
            throw new TrackerException($"The UDP tracker {Uri} is unreachable: {e.SocketErrorCode}.", e);
        }
    }
}
