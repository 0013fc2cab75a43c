using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Discovery;

/// <summary>
/// Local Service Discovery (BEP 14): announces our torrents to the LSD multicast groups on each selected interface
/// and reports the peers whose announces name a torrent we registered. One instance serves every torrent of a
/// process (the groups' port is shared); torrents join with <see cref="Register"/>.
/// </summary>
/// <remarks>
/// Announce rounds are at most one per <see cref="LocalPeerDiscoveryOptions.MinAnnounceInterval"/> and happen
/// every <see cref="LocalPeerDiscoveryOptions.AnnounceInterval"/>, or as soon as the limit allows after a torrent
/// registers. A round carries every registered torrent, several per datagram (at most 1400 bytes each). Our own
/// announces, looped back by multicast, are recognised by our cookie and ignored. Peers heard for a registered
/// torrent are remembered for two announce intervals, so a later registration of the same torrent (a deployment
/// that follows its magnet fetch) gets them at once. Private torrents (BEP 27) must
/// never be registered: <see cref="DiscoveryPolicy"/> decides.
/// </remarks>
internal sealed class LocalPeerDiscovery : IAsyncDisposable
{
    /// <summary>The most torrents, and the most peers of each, remembered for later registrations.</summary>
    private const int MaxRemembered = 64;

    private readonly LocalPeerDiscoveryOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly List<Registration> _registrations = [];
    private readonly List<GroupSocket> _groups = [];
    private readonly List<Task> _tasks = [];

    // Peers heard announcing a torrent we registered, by 20-byte hash, with when they were last heard: a new
    // registration of the same torrent (a deployment after its magnet fetch) gets them at once instead of waiting
    // for their next announce, minutes away. Bounded: hashes we registered only, MaxRemembered of each.
    private readonly Dictionary<InfoHash, Dictionary<IPEndPoint, long>> _heard = [];
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private double _tokens;
    private long _tokensRefilled;
    private bool _started;
    private bool _disposed;

    /// <summary>Initializes a new instance; nothing is sent or received before <see cref="Start"/>.</summary>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    /// <param name="time">The clock announce intervals, the receive rate limit and forgetting peers run on; <see langword="null"/> for the system's.</param>
    public LocalPeerDiscovery(LocalPeerDiscoveryOptions? options = null, ILogger? logger = null, TimeProvider? time = null)
    {
        _options = options ?? LocalPeerDiscoveryOptions.Default;
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        Cookie = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        _tokens = _options.MaxReceivedPerSecond;
        _tokensRefilled = _time.GetTimestamp();
    }

    /// <summary>Gets the cookie our announces carry.</summary>
    public string Cookie { get; }

    /// <summary>Gets the interfaces (name and family) that joined a group, once started.</summary>
    public IReadOnlyList<string> ActiveInterfaces
    {
        get
        {
            lock (_lock)
            {
                return [.. _groups.SelectMany(g => g.Interfaces.Select(i => $"{i.Name} ({g.Family})"))];
            }
        }
    }

    /// <summary>Gets how many announce rounds were sent (for tests and diagnostics).</summary>
    public int AnnounceRounds { get; private set; }

    /// <summary>
    /// Opens the multicast sockets and starts announcing and listening. The sockets and the interface list are
    /// taken synchronously on the calling thread (so a caller inside a network namespace gets that namespace's).
    /// </summary>
    /// <exception cref="InvalidOperationException">Already started, or a named interface does not exist.</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_lock)
        {
            if (_started)
            {
                throw new InvalidOperationException("Local peer discovery is already started.");
            }

            _started = true;
        }

        List<NetworkInterface> interfaces = SelectInterfaces();
        if (_options.UseIPv4)
        {
            OpenGroup(AddressFamily.InterNetwork, LsdMessage.IPv4Group, interfaces);
        }

        if (_options.UseIPv6)
        {
            OpenGroup(AddressFamily.InterNetworkV6, LsdMessage.IPv6Group, interfaces);
        }

        if (_groups.Count == 0)
        {
            Log.LsdNoInterface(_logger);
            return;
        }

        foreach (GroupSocket group in _groups)
        {
            _tasks.Add(Task.Run(() => ReceiveLoopAsync(group, _stop.Token)));
        }

        _tasks.Add(Task.Run(() => AnnounceLoopAsync(_stop.Token)));
    }

    /// <summary>
    /// Adds a torrent to our announces and reports the peers that announce it. Dispose the result to leave.
    /// </summary>
    /// <param name="infoHash">The torrent (announced in its 20-byte form).</param>
    /// <param name="port">The TCP port we accept peers on for it.</param>
    /// <param name="onPeer">Called with each peer found (its address and TCP port): on a pool thread, or at once on the calling thread for the peers heard recently. It must not throw or block.</param>
    /// <returns>The registration; disposing it stops announcing the torrent.</returns>
    public IDisposable Register(InfoHash infoHash, int port, Action<IPEndPoint> onPeer)
    {
        ArgumentNullException.ThrowIfNull(onPeer);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (infoHash.Version == TorrentVersions.None)
        {
            throw new ArgumentException("The info-hash is empty.", nameof(infoHash));
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        var registration = new Registration(this, infoHash, port, onPeer);
        IPEndPoint[] known;
        lock (_lock)
        {
            _registrations.Add(registration);
            known = RecentlyHeardLocked(new InfoHash(infoHash.Truncated20));
        }

        foreach (IPEndPoint peer in known)
        {
            onPeer(peer);
        }

        // Announce the newcomer as soon as the rate limit allows; a full semaphore already promises a round.
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another registration woke the loop at the same moment: one round covers both.
            }
        }

        return registration;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (GroupSocket group in _groups)
        {
            group.Socket.Dispose();
        }

        await Task.WhenAll(_tasks).ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
    }

    private List<NetworkInterface> SelectInterfaces()
    {
        NetworkInterface[] all = NetworkInterface.GetAllNetworkInterfaces();
        if (_options.Interfaces.Count > 0)
        {
            var chosen = new List<NetworkInterface>();
            foreach (string name in _options.Interfaces)
            {
                chosen.Add(all.FirstOrDefault(n => n.Name == name)
                    ?? throw new InvalidOperationException($"The network interface '{name}' named in LocalPeerDiscoveryOptions.Interfaces does not exist (there are: {string.Join(", ", all.Select(n => n.Name))})."));
            }

            return chosen;
        }

        return [.. all.Where(n => n.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown
            && n.SupportsMulticast
            && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)];
    }

    private void OpenGroup(AddressFamily family, IPAddress group, List<NetworkInterface> interfaces)
    {
        var joined = new List<LsdInterface>();
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            SocketOptionLevel level = family == AddressFamily.InterNetwork ? SocketOptionLevel.IP : SocketOptionLevel.IPv6;
            if (family == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            // Several LSD clients on one host share the port; each gets a copy of every multicast datagram.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, _options.Port));
            socket.SetSocketOption(level, SocketOptionName.MulticastTimeToLive, _options.TimeToLive);
            socket.SetSocketOption(level, SocketOptionName.MulticastLoopback, true);
            foreach (NetworkInterface networkInterface in interfaces)
            {
                if (!networkInterface.Supports(family == AddressFamily.InterNetwork ? NetworkInterfaceComponent.IPv4 : NetworkInterfaceComponent.IPv6))
                {
                    continue;
                }

                IPInterfaceProperties properties = networkInterface.GetIPProperties();
                IPAddress? source = properties.UnicastAddresses.Select(a => a.Address).FirstOrDefault(a => a.AddressFamily == family);
                if (source is null)
                {
                    continue;
                }

                int index = family == AddressFamily.InterNetwork ? properties.GetIPv4Properties().Index : properties.GetIPv6Properties().Index;
                try
                {
                    if (family == AddressFamily.InterNetwork)
                    {
                        socket.SetSocketOption(level, SocketOptionName.AddMembership, new MulticastOption(group, index));
                    }
                    else
                    {
                        socket.SetSocketOption(level, SocketOptionName.AddMembership, new IPv6MulticastOption(group, index));
                    }
                }
                catch (SocketException e)
                {
                    Log.LsdJoinFailed(_logger, networkInterface.Name, group, e.SocketErrorCode);
                    continue;
                }

                joined.Add(new LsdInterface(networkInterface.Name, index, source));
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        if (joined.Count == 0)
        {
            socket.Dispose();
            return;
        }

        lock (_lock)
        {
            _groups.Add(new GroupSocket(socket, family, new IPEndPoint(group, _options.Port), LsdMessage.HostHeader(group, _options.Port), joined));
        }

        Log.LsdListening(_logger, group, _options.Port, string.Join(", ", joined.Select(i => i.Name)));
    }

    private async Task AnnounceLoopAsync(CancellationToken cancellationToken)
    {
        long lastRound = 0;
        TimeSpan untilDue = Timeout.InfiniteTimeSpan;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await WaitForWakeAsync(untilDue, cancellationToken).ConfigureAwait(false);
                if (lastRound != 0)
                {
                    TimeSpan sinceLast = _time.GetElapsedTime(lastRound);
                    if (sinceLast < _options.MinAnnounceInterval)
                    {
                        await Task.Delay(_options.MinAnnounceInterval - sinceLast, _time, cancellationToken).ConfigureAwait(false);
                    }
                }

                Registration[] registrations;
                lock (_lock)
                {
                    registrations = [.. _registrations];
                }

                if (registrations.Length == 0)
                {
                    untilDue = Timeout.InfiniteTimeSpan;
                    continue;
                }

                SendRound(registrations);
                AnnounceRounds++;
                lastRound = _time.GetTimestamp();
                untilDue = _options.AnnounceInterval;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private void SendRound(Registration[] registrations)
    {
        byte[] buffer = new byte[LsdMessage.MaxSendLength + 64];
        foreach (GroupSocket group in _groups)
        {
            int perMessage = LsdMessage.HashesPerMessage(group.Host, Cookie);
            foreach (IGrouping<int, Registration> byPort in registrations.GroupBy(r => r.Port))
            {
                InfoHash[] hashes = [.. byPort.Select(r => r.InfoHash).Distinct()];
                foreach (InfoHash[] chunk in hashes.Chunk(perMessage))
                {
                    int length = LsdMessage.Write(buffer, group.Host, byPort.Key, chunk, Cookie);
                    foreach (LsdInterface networkInterface in group.Interfaces)
                    {
                        Send(group, networkInterface, buffer.AsSpan(0, length));
                    }
                }
            }
        }
    }

    private void Send(GroupSocket group, LsdInterface networkInterface, ReadOnlySpan<byte> message)
    {
        // The outgoing interface is per socket, so choosing it and sending must not interleave.
        lock (group)
        {
            try
            {
                if (group.Family == AddressFamily.InterNetwork)
                {
                    group.Socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, networkInterface.Source.GetAddressBytes());
                }
                else
                {
                    group.Socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, networkInterface.Index);
                }

                group.Socket.SendTo(message, SocketFlags.None, group.Destination);
            }
            catch (SocketException e)
            {
                Log.LsdSendFailed(_logger, networkInterface.Name, group.Destination, e.SocketErrorCode);
            }
            catch (ObjectDisposedException)
            {
                // Disposed while a round was under way.
            }
        }
    }

    private async Task ReceiveLoopAsync(GroupSocket group, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[LsdMessage.MaxReceiveLength + 1];
        var hashes = new List<InfoHash>();
        EndPoint any = new IPEndPoint(group.Family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await group.Socket.ReceiveFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
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
                // Errors on a datagram socket concern one datagram (or a past send); keep listening.
                Log.LsdReceiveFailed(_logger, group.Destination, e.SocketErrorCode);
                continue;
            }

            if (!TakeToken() || !LsdMessage.TryParse(buffer.AsSpan(0, received.ReceivedBytes), out int port, hashes, out string? cookie) || cookie == Cookie)
            {
                continue;
            }

            var source = (IPEndPoint)received.RemoteEndPoint;
            var peer = new IPEndPoint(CompactPeers.Normalize(source.Address), port);
            Registration[] registrations;
            lock (_lock)
            {
                registrations = [.. _registrations];
            }

            foreach (Registration registration in registrations)
            {
                foreach (InfoHash hash in hashes)
                {
                    if (hash.Span.SequenceEqual(registration.InfoHash.Truncated20))
                    {
                        Log.LsdPeerFound(_logger, peer, registration.InfoHash);
                        Remember(hash, peer);
                        registration.OnPeer(peer);
                    }
                }
            }
        }
    }

    private void Remember(InfoHash hash, IPEndPoint peer)
    {
        lock (_lock)
        {
            if (!_heard.TryGetValue(hash, out Dictionary<IPEndPoint, long>? peers))
            {
                if (_heard.Count >= MaxRemembered)
                {
                    return;
                }

                peers = [];
                _heard.Add(hash, peers);
            }

            if (peers.Count < MaxRemembered || peers.ContainsKey(peer))
            {
                peers[peer] = _time.GetTimestamp();
            }
        }
    }

    // Waits for a registration's wake-up or, when a round is due later, for that time on our clock, whichever is first.
    private async Task WaitForWakeAsync(TimeSpan untilDue, CancellationToken cancellationToken)
    {
        if (untilDue == Timeout.InfiniteTimeSpan)
        {
            await _wake.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        using var due = new CancellationTokenSource(untilDue, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, due.Token);
        try
        {
            await _wake.WaitAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The round is due.
        }
    }

    // Peers announce every AnnounceInterval (5 minutes): one not heard for two intervals is taken to be gone.
    private IPEndPoint[] RecentlyHeardLocked(InfoHash hash)
    {
        if (!_heard.TryGetValue(hash, out Dictionary<IPEndPoint, long>? peers))
        {
            return [];
        }

        TimeSpan limit = _options.AnnounceInterval * 2;
        foreach (IPEndPoint gone in peers.Where(p => _time.GetElapsedTime(p.Value) > limit).Select(p => p.Key).ToList())
        {
            peers.Remove(gone);
        }

        return [.. peers.Keys];
    }

    // A token bucket refilled at MaxReceivedPerSecond: a flood of announces costs a parse each, no more.
    private bool TakeToken()
    {
        long now = _time.GetTimestamp();
        double elapsed = _time.GetElapsedTime(_tokensRefilled, now).TotalSeconds;
        _tokensRefilled = now;
        _tokens = Math.Min(_options.MaxReceivedPerSecond, _tokens + (elapsed * _options.MaxReceivedPerSecond));
        if (_tokens < 1)
        {
            return false;
        }

        _tokens--;
        return true;
    }

    private void Unregister(Registration registration)
    {
        lock (_lock)
        {
            _registrations.Remove(registration);
        }
    }

    private sealed record LsdInterface(string Name, int Index, IPAddress Source);

    private sealed record GroupSocket(Socket Socket, AddressFamily Family, IPEndPoint Destination, string Host, IReadOnlyList<LsdInterface> Interfaces);

    private sealed class Registration(LocalPeerDiscovery owner, InfoHash infoHash, int port, Action<IPEndPoint> onPeer) : IDisposable
    {
        public InfoHash InfoHash { get; } = infoHash;

        public int Port { get; } = port;

        public Action<IPEndPoint> OnPeer { get; } = onPeer;

        public void Dispose() => owner.Unregister(this);
    }
}
