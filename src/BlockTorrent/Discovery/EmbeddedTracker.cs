using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BlockTorrent.Bencode;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Discovery;

/// <summary>
/// A BitTorrent HTTP tracker (BEP 3, compact peers BEP 23, IPv6 peers BEP 7, scrape BEP 48) inside the process,
/// so a single seeder needs no other server: any client (BlockTorrent, libtorrent, aria2, Transmission) announces
/// to <see cref="AnnounceUri"/>. It speaks a minimal HTTP/1.1 over sockets: one GET per connection, bounded
/// request size and time, a bounded number of connections, torrents and peers. One source address gets a few
/// connections at once, requests at a bounded rate, and a few entries per torrent; a scrape must name its torrents,
/// so nobody can list what the tracker tracks.
/// </summary>
public sealed class EmbeddedTracker : IAsyncDisposable
{
    private const int MaxQueryParameters = 64;

    private readonly EmbeddedTrackerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<InfoHash, bool> _allowed;
    private readonly TrackerAdmission _admission;
    private readonly ConcurrentDictionary<Task, bool> _handlers = new();
    private SemaphoreSlim? _connections;
    private Socket? _listener;
    private CancellationTokenSource? _stop;
    private Task? _acceptLoop;
    private ITimer? _sweeper;

    /// <summary>Initializes a new instance; call <see cref="StartAsync"/> to listen.</summary>
    /// <param name="options">The settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock for peer expiry, or <see langword="null"/> for the system clock.</param>
    public EmbeddedTracker(EmbeddedTrackerOptions? options = null, ILogger<EmbeddedTracker>? logger = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new EmbeddedTrackerOptions();
        _options.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _allowed = new(_options.AllowedInfoHashes.Select(h => KeyValuePair.Create(new InfoHash(h.Truncated20), true)));
        _admission = new TrackerAdmission(_options.MaxConnectionsPerAddress, _options.RequestBurstPerAddress, _options.RequestsPerAddressPerSecond, _time);
        Peers = new TrackerPeerTable(_options.MaxTorrents, _options.MaxPeersPerTorrent, _options.MaxPeersPerAddress, _options.PeerTimeout, _time, _options.ExemptLoopback);
    }

    /// <summary>Gets the address and port the tracker listens on.</summary>
    /// <exception cref="InvalidOperationException">The tracker is not started.</exception>
    public IPEndPoint LocalEndPoint => (IPEndPoint?)_listener?.LocalEndPoint ?? throw new InvalidOperationException("The tracker is not started.");

    /// <summary>Gets the announce address to put in torrents: <c>http://host:port/announce</c>.</summary>
    /// <exception cref="InvalidOperationException">The tracker is not started.</exception>
    public Uri AnnounceUri => new($"http://{AdvertisedHost}:{LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture)}/announce");

    /// <summary>Gets the scrape address: <c>http://host:port/scrape</c>.</summary>
    /// <exception cref="InvalidOperationException">The tracker is not started.</exception>
    public Uri ScrapeUri => new($"http://{AdvertisedHost}:{LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture)}/scrape");

    /// <summary>Gets the number of torrents with at least one live peer.</summary>
    public int TorrentCount => Peers.TorrentCount;

    /// <summary>
    /// Starts tracking a torrent: a tracker with <see cref="EmbeddedTrackerOptions.OnlyAllowedTorrents"/> (or a
    /// non-empty allowed set) serves announces for it from now on.
    /// </summary>
    /// <param name="infoHash">The torrent's info-hash (a v2 one is tracked by its first 20 bytes, as peers announce it).</param>
    public void AllowTorrent(InfoHash infoHash) => _allowed[new InfoHash(infoHash.Truncated20)] = true;

    /// <summary>Stops tracking a torrent added by <see cref="AllowTorrent"/> or the options, and forgets its peers.</summary>
    /// <param name="infoHash">The torrent's info-hash.</param>
    public void RemoveTorrent(InfoHash infoHash)
    {
        var key = new InfoHash(infoHash.Truncated20);
        _allowed.TryRemove(key, out _);
        Peers.Forget(key);
    }

    /// <summary>Gets the peer table (for tests).</summary>
    internal TrackerPeerTable Peers { get; }

    private string AdvertisedHost
    {
        get
        {
            if (_options.AdvertisedHost is { } host)
            {
                return host;
            }

            IPAddress address = CompactPeers.Normalize(LocalEndPoint.Address);
            if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
            {
                return Dns.GetHostName();
            }

            return address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        }
    }

    /// <summary>Binds the listen socket and starts serving.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes once the tracker accepts connections.</returns>
    /// <exception cref="InvalidOperationException">The tracker is already started.</exception>
    /// <exception cref="SocketException">The address cannot be bound (in use, not local).</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_listener is not null)
        {
            throw new InvalidOperationException("The tracker is already started.");
        }

        IPEndPoint endPoint = _options.ListenEndPoint;
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }

            listener.Bind(endPoint);
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        _connections = new SemaphoreSlim(_options.MaxConnections, _options.MaxConnections);
        _stop = new CancellationTokenSource();
        _sweeper = _time.CreateTimer(
            _ =>
            {
                Peers.Sweep();
                _admission.Sweep();
            },
            null,
            _options.PeerTimeout,
            _options.PeerTimeout);
        _acceptLoop = Task.Run(() => AcceptLoopAsync(listener, _stop.Token), CancellationToken.None);
        Log.TrackerListening(_logger, LocalEndPoint);
        return Task.CompletedTask;
    }

    /// <summary>Stops listening and waits for the requests being served.</summary>
    /// <param name="cancellationToken">Stops waiting for requests in flight.</param>
    /// <returns>A task that completes when the tracker has stopped.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stop is null || _listener is null)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        if (_sweeper is not null)
        {
            await _sweeper.DisposeAsync().ConfigureAwait(false);
        }

        await _acceptLoop!.WaitAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(_handlers.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stop?.Dispose();
        _connections?.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                await _connections!.WaitAsync(cancellationToken).ConfigureAwait(false);
                client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // A connection that died in the backlog; the listener itself is fine.
                _connections!.Release();
                Log.TrackerAcceptFailed(_logger, e.SocketErrorCode);
                continue;
            }

            IPAddress source = CompactPeers.Normalize(((IPEndPoint)client.RemoteEndPoint!).Address);
            if (!Admits(source))
            {
                // This address already has its share of connections: closed at once, so it cannot hold them all.
                Log.TrackerRefusedConnection(_logger, source);
                client.Dispose();
                _connections!.Release();
                continue;
            }

            Task handler = ServeAsync(client, source, cancellationToken);
            _handlers.TryAdd(handler, true);
            _ = handler.ContinueWith(t => _handlers.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private bool IsExempt(IPAddress source) => _options.ExemptLoopback && IPAddress.IsLoopback(source);

    private bool Admits(IPAddress source) => IsExempt(source) || _admission.TryEnter(source);

    private async Task ServeAsync(Socket client, IPAddress source, CancellationToken stopping)
    {
        await Task.Yield();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_options.MaxRequestBytes);
        try
        {
            using var timeout = new CancellationTokenSource(_options.RequestTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
            var remote = (IPEndPoint)client.RemoteEndPoint!;
            int length = 0;
            int headEnd = -1;
            while (headEnd < 0)
            {
                if (length == _options.MaxRequestBytes)
                {
                    await RespondAsync(client, 431, "Request Header Fields Too Large", Failure("request too large"), linked.Token).ConfigureAwait(false);
                    return;
                }

                int read = await client.ReceiveAsync(buffer.AsMemory(length, _options.MaxRequestBytes - length), SocketFlags.None, linked.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                length += read;
                headEnd = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            }

            (int status, string reason, byte[] body) = IsExempt(source) || _admission.TryTakeRequest(source)
                ? Handle(buffer.AsSpan(0, headEnd), remote, (IPEndPoint)client.LocalEndPoint!)
                : (429, "Too Many Requests", Failure("too many requests from this address; announce less often"));
            await RespondAsync(client, status, reason, body, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Too slow, or the tracker is stopping: the connection is just closed.
        }
        catch (SocketException e)
        {
            Log.TrackerConnectionFailed(_logger, e.SocketErrorCode);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            client.Dispose();
            if (!IsExempt(source))
            {
                _admission.Leave(source);
            }

            _connections!.Release();
        }
    }

    private (int Status, string Reason, byte[] Body) Handle(ReadOnlySpan<byte> head, IPEndPoint remote, IPEndPoint local)
    {
        int lineEnd = head.IndexOf("\r\n"u8);
        ReadOnlySpan<byte> line = lineEnd < 0 ? head : head[..lineEnd];
        int firstSpace = line.IndexOf((byte)' ');
        int lastSpace = line.LastIndexOf((byte)' ');
        if (firstSpace <= 0 || lastSpace <= firstSpace || !line[(lastSpace + 1)..].StartsWith("HTTP/1."u8))
        {
            return (400, "Bad Request", Failure("malformed request line"));
        }

        if (!line[..firstSpace].SequenceEqual("GET"u8))
        {
            return (405, "Method Not Allowed", Failure("only GET is served"));
        }

        ReadOnlySpan<byte> target = line[(firstSpace + 1)..lastSpace];
        int question = target.IndexOf((byte)'?');
        ReadOnlySpan<byte> path = question < 0 ? target : target[..question];
        ReadOnlySpan<byte> query = question < 0 ? [] : target[(question + 1)..];
        bool announce = path.SequenceEqual("/announce"u8);
        if (!announce && !path.SequenceEqual("/scrape"u8))
        {
            return (404, "Not Found", Failure("unknown path; use /announce or /scrape"));
        }

        if (!TrackerQuery.TryParse(query, MaxQueryParameters, out List<KeyValuePair<string, byte[]>> parameters))
        {
            return (400, "Bad Request", Failure("malformed query string"));
        }

        // Tracker errors travel as a bencoded "failure reason" in a 200 response, which every client reads.
        return (200, "OK", announce ? Announce(parameters, remote, local) : Scrape(parameters));
    }

    private byte[] Announce(List<KeyValuePair<string, byte[]>> parameters, IPEndPoint remote, IPEndPoint local)
    {
        byte[]? infoHash = Get(parameters, "info_hash");
        byte[]? peerId = Get(parameters, "peer_id");
        if (infoHash is not { Length: 20 })
        {
            return Failure("info_hash must be 20 bytes");
        }

        if (peerId is not { Length: AnnounceRequest.PeerIdLength })
        {
            return Failure("peer_id must be 20 bytes");
        }

        if (!TryGetNumber(parameters, "port", 1, 65535, null, out long port))
        {
            return Failure("port must be in 1..65535");
        }

        if (!TryGetNumber(parameters, "left", 0, long.MaxValue, 1, out long left)
            || !TryGetNumber(parameters, "numwant", 0, int.MaxValue, _options.DefaultNumWant, out long numWant))
        {
            return Failure("left and numwant must be non-negative integers");
        }

        var hash = new InfoHash(infoHash);
        if ((_options.OnlyAllowedTorrents || !_allowed.IsEmpty) && !_allowed.ContainsKey(hash))
        {
            return Failure("this tracker does not serve that torrent");
        }

        AnnounceEvent announceEvent = Encoding.ASCII.GetString(Get(parameters, "event") ?? []) switch
        {
            "started" => AnnounceEvent.Started,
            "completed" => AnnounceEvent.Completed,
            "stopped" => AnnounceEvent.Stopped,
            _ => AnnounceEvent.None,
        };

        IPAddress address = CompactPeers.Normalize(remote.Address);
        if (_options.AcceptIpParameter && Get(parameters, "ip") is { } ip && IPAddress.TryParse(Encoding.ASCII.GetString(ip), out IPAddress? named))
        {
            address = CompactPeers.Normalize(named);
        }

        var peer = new IPEndPoint(address, (int)port);
        var peers = new List<TrackedPeer>();
        if (!Peers.Announce(hash, peer, peerId, left, announceEvent, (int)Math.Min(numWant, _options.MaxNumWant), peers, out ScrapeStats stats))
        {
            return Failure("this tracker tracks too many torrents");
        }

        // A peer that announced from a loopback address runs on the tracker's machine: typically the seed the tracker
        // is embedded with, announcing to this machine's name, which often resolves to a loopback address (127.0.1.1).
        // A requester on another machine reaches it at the address by which it reached the tracker.
        if (!IPAddress.IsLoopback(CompactPeers.Normalize(remote.Address)))
        {
            IPAddress here = CompactPeers.Normalize(local.Address);
            for (int i = 0; i < peers.Count; i++)
            {
                TrackedPeer listed = peers[i];
                if (IPAddress.IsLoopback(listed.EndPoint.Address))
                {
                    peers[i] = new TrackedPeer(new IPEndPoint(here, listed.EndPoint.Port), listed.PeerId, listed.Left, listed.LastSeen);
                }
            }
        }

        Log.TrackerServedAnnounce(_logger, peer, hash, announceEvent, peers.Count);
        bool compact = !(Get(parameters, "compact") ?? []).AsSpan().SequenceEqual("0"u8);
        bool noPeerId = (Get(parameters, "no_peer_id") ?? []).AsSpan().SequenceEqual("1"u8);
        return AnnounceResponseBody(stats, peers, compact, noPeerId);
    }

    private byte[] AnnounceResponseBody(ScrapeStats stats, List<TrackedPeer> peers, bool compact, bool noPeerId)
    {
        var output = new ArrayBufferWriter<byte>(256 + (peers.Count * 24));
        var writer = new BencodeWriter(output);
        writer.WriteStartDictionary();
        writer.WriteString("complete"u8);
        writer.WriteInteger(stats.Seeders);
        writer.WriteString("incomplete"u8);
        writer.WriteInteger(stats.Leechers);
        writer.WriteString("interval"u8);
        writer.WriteInteger((long)_options.AnnounceInterval.TotalSeconds);
        writer.WriteString("min interval"u8);
        writer.WriteInteger((long)_options.MinAnnounceInterval.TotalSeconds);
        writer.WriteString("peers"u8);
        if (compact)
        {
            WriteCompact(writer, peers, AddressFamily.InterNetwork);
            if (peers.Any(p => p.EndPoint.AddressFamily == AddressFamily.InterNetworkV6))
            {
                writer.WriteString("peers6"u8);
                WriteCompact(writer, peers, AddressFamily.InterNetworkV6);
            }
        }
        else
        {
            writer.WriteStartList();
            foreach (TrackedPeer peer in peers)
            {
                // Keys in raw byte order: "ip" < "peer id" < "port".
                writer.WriteStartDictionary();
                writer.WriteString("ip"u8);
                writer.WriteString(peer.EndPoint.Address.ToString());
                if (!noPeerId)
                {
                    writer.WriteString("peer id"u8);
                    writer.WriteString(peer.PeerId);
                }

                writer.WriteString("port"u8);
                writer.WriteInteger(peer.EndPoint.Port);
                writer.WriteEnd();
            }

            writer.WriteEnd();
        }

        writer.WriteEnd();
        return output.WrittenSpan.ToArray();
    }

    private static void WriteCompact(BencodeWriter writer, List<TrackedPeer> peers, AddressFamily family)
    {
        int entry = CompactPeers.EntryLength(family);
        TrackedPeer[] ofFamily = [.. peers.Where(p => p.EndPoint.AddressFamily == family)];
        byte[] data = new byte[ofFamily.Length * entry];
        for (int i = 0; i < ofFamily.Length; i++)
        {
            CompactPeers.Write(ofFamily[i].EndPoint, data.AsSpan(i * entry));
        }

        writer.WriteString(data);
    }

    private byte[] Scrape(List<KeyValuePair<string, byte[]>> parameters)
    {
        byte[][] requested = [.. parameters.Where(p => p.Key == "info_hash").Select(p => p.Value)];
        if (requested.Any(h => h.Length != 20))
        {
            return Failure("info_hash must be 20 bytes");
        }

        // A scrape of everything would tell anyone which images exist: only torrents the requester names are counted.
        if (requested.Length == 0)
        {
            return Failure("name the torrents to scrape with info_hash");
        }

        IEnumerable<InfoHash> hashes = requested.Select(h => new InfoHash(h));
        var files = new SortedDictionary<byte[], ScrapeStats>(Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y)));
        foreach (InfoHash hash in hashes)
        {
            if (Peers.TryScrape(hash, out ScrapeStats stats))
            {
                files[hash.Span.ToArray()] = stats;
            }
        }

        var output = new ArrayBufferWriter<byte>(64 + (files.Count * 80));
        var writer = new BencodeWriter(output);
        writer.WriteStartDictionary();
        writer.WriteString("files"u8);
        writer.WriteStartDictionary();
        foreach ((byte[] hash, ScrapeStats stats) in files)
        {
            writer.WriteString(hash);
            writer.WriteStartDictionary();
            writer.WriteString("complete"u8);
            writer.WriteInteger(stats.Seeders);
            writer.WriteString("downloaded"u8);
            writer.WriteInteger(stats.Completed);
            writer.WriteString("incomplete"u8);
            writer.WriteInteger(stats.Leechers);
            writer.WriteEnd();
        }

        writer.WriteEnd();
        writer.WriteEnd();
        return output.WrittenSpan.ToArray();
    }

    private static byte[] Failure(string reason)
    {
        var output = new ArrayBufferWriter<byte>(64);
        var writer = new BencodeWriter(output);
        writer.WriteStartDictionary();
        writer.WriteString("failure reason"u8);
        writer.WriteString(reason);
        writer.WriteEnd();
        return output.WrittenSpan.ToArray();
    }

    private static byte[]? Get(List<KeyValuePair<string, byte[]>> parameters, string name)
    {
        foreach (KeyValuePair<string, byte[]> parameter in parameters)
        {
            if (parameter.Key == name)
            {
                return parameter.Value;
            }
        }

        return null;
    }

    private static bool TryGetNumber(List<KeyValuePair<string, byte[]>> parameters, string name, long min, long max, long? fallback, out long value)
    {
        byte[]? text = Get(parameters, name);
        if (text is null)
        {
            value = fallback ?? 0;
            return fallback is not null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
    }

    private static async Task RespondAsync(Socket client, int status, string reason, byte[] body, CancellationToken cancellationToken)
    {
        string head = $"HTTP/1.1 {status.ToString(CultureInfo.InvariantCulture)} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {body.Length.ToString(CultureInfo.InvariantCulture)}\r\nConnection: close\r\n\r\n";
        byte[] response = [.. Encoding.ASCII.GetBytes(head), .. body];
        await client.SendAsync(response, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        client.Shutdown(SocketShutdown.Send);
    }
}
