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
/// Interfaces and addresses come and go (a service started at boot before its network has an address): the
/// interfaces are scanned again when the system reports an address or availability change, and every
/// <see cref="LocalPeerDiscoveryOptions.InterfaceRescanInterval"/> in case it reports nothing, at most once per
/// <see cref="MinRescanSpacing"/>. A scan joins the groups on interfaces that gained an address (and announces on
/// them as soon as the announce limit allows), follows a changed address and leaves interfaces that are gone. Scans
/// run on a thread <see cref="Start"/> creates, so they see the network namespace of the thread that called it.
/// </remarks>
internal sealed class LocalPeerDiscovery : IAsyncDisposable
{
    /// <summary>The most torrents, and the most peers of each, remembered for later registrations.</summary>
    private const int MaxRemembered = 64;

    /// <summary>The shortest time between two interface scans, however many changes the system reports.</summary>
    internal static readonly TimeSpan MinRescanSpacing = TimeSpan.FromSeconds(1);

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
    private readonly AutoResetEvent _rescan = new(false);
    private readonly TaskCompletionSource _rescansStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Interfaces (family and index) a join failed on, so a failure that repeats at every scan is logged once.
    private readonly HashSet<(AddressFamily Family, int Index)> _joinFailed = [];
    private Thread? _rescanThread;
    private ITimer? _rescanTimer;
    private bool _watchingNetwork;
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

    /// <summary>Gets how many times the interfaces were scanned, the scan in <see cref="Start"/> included (for tests and diagnostics).</summary>
    public int InterfaceScans { get; private set; }

    /// <summary>
    /// Gets or sets a value indicating whether the system's network change notifications trigger a scan; tests turn
    /// it off to see the periodic scan alone. Set before <see cref="Start"/>.
    /// </summary>
    internal bool WatchNetworkChanges { get; set; } = true;

    /// <summary>
    /// Opens the multicast sockets and starts announcing and listening. The sockets and the first interface scan are
    /// made synchronously on the calling thread, and later scans on a thread created here, so a caller inside a
    /// network namespace gets that namespace's interfaces, now and later.
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

        List<NetworkInterface> interfaces = SelectInterfaces(throwIfMissing: true);
        try
        {
            if (_options.UseIPv4)
            {
                OpenGroup(AddressFamily.InterNetwork, LsdMessage.IPv4Group);
            }

            if (_options.UseIPv6)
            {
                OpenGroup(AddressFamily.InterNetworkV6, LsdMessage.IPv6Group);
            }
        }
        catch
        {
            foreach (GroupSocket group in _groups)
            {
                group.Socket.Dispose();
            }

            _groups.Clear();
            throw;
        }

        if (!JoinInterfaces(interfaces))
        {
            Log.LsdNoInterface(_logger);
        }

        foreach (GroupSocket group in _groups)
        {
            _tasks.Add(Task.Run(() => ReceiveLoopAsync(group, _stop.Token)));
        }

        _tasks.Add(Task.Run(() => AnnounceLoopAsync(_stop.Token)));
        StartRescans();
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

        // Announce the newcomer as soon as the rate limit allows.
        WakeAnnounceLoop();
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
        if (_watchingNetwork)
        {
            NetworkChange.NetworkAddressChanged -= OnNetworkChanged;
            NetworkChange.NetworkAvailabilityChanged -= OnNetworkAvailabilityChanged;
        }

        if (_rescanTimer is not null)
        {
            await _rescanTimer.DisposeAsync().ConfigureAwait(false);
        }

        await _stop.CancelAsync().ConfigureAwait(false);

        // The scanning thread may be joining a group: the sockets are closed only once it has stopped.
        if (_rescanThread is not null)
        {
            await _rescansStopped.Task.ConfigureAwait(false);
        }

        foreach (GroupSocket group in _groups)
        {
            group.Socket.Dispose();
        }

        await Task.WhenAll(_tasks).ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
        _rescan.Dispose();
    }

    /// <summary>
    /// Starts the scanning thread, the periodic scan and the system's change notifications. A thread inherits the
    /// network namespace of the thread that creates it, and a pool thread would have the process's.
    /// </summary>
    private void StartRescans()
    {
        _rescanThread = new Thread(RescanLoop) { IsBackground = true, Name = "BlockTorrent LSD interfaces" };
        _rescanThread.Start();
        _rescanTimer = _time.CreateTimer(_ => RequestRescan(), null, _options.InterfaceRescanInterval, _options.InterfaceRescanInterval);
        if (WatchNetworkChanges)
        {
            try
            {
                NetworkChange.NetworkAddressChanged += OnNetworkChanged;
                NetworkChange.NetworkAvailabilityChanged += OnNetworkAvailabilityChanged;
                _watchingNetwork = true;
            }
            catch (Exception e) when (e is NetworkInformationException or IOException or PlatformNotSupportedException)
            {
                // The periodic scan still notices new interfaces and addresses.
                NetworkChange.NetworkAddressChanged -= OnNetworkChanged;
                Log.LsdNoChangeNotifications(_logger, e.Message, _options.InterfaceRescanInterval);
            }
        }
    }

    private void OnNetworkChanged(object? sender, EventArgs e) => RequestRescan();

    private void OnNetworkAvailabilityChanged(object? sender, NetworkAvailabilityEventArgs e) => RequestRescan();

    private void RequestRescan()
    {
        try
        {
            _rescan.Set();
        }
        catch (ObjectDisposedException)
        {
            // A notification raced with disposal.
        }
    }

    /// <summary>The scanning thread: one scan per request, requests that arrive during a scan or its spacing folded into one.</summary>
    private void RescanLoop()
    {
        try
        {
            WaitHandle stopped = _stop.Token.WaitHandle;
            WaitHandle[] handles = [_rescan, stopped];
            while (WaitHandle.WaitAny(handles) == 0)
            {
                try
                {
                    if (JoinInterfaces(SelectInterfaces(throwIfMissing: false)))
                    {
                        WakeAnnounceLoop();
                    }
                }
                catch (NetworkInformationException e)
                {
                    // The next change or period tries again.
                    Log.LsdScanFailed(_logger, e.Message);
                }

                if (stopped.WaitOne(MinRescanSpacing))
                {
                    break;
                }
            }
        }
        finally
        {
            _rescansStopped.TrySetResult();
        }
    }

    private List<NetworkInterface> SelectInterfaces(bool throwIfMissing)
    {
        NetworkInterface[] all = NetworkInterface.GetAllNetworkInterfaces();
        if (_options.Interfaces.Count > 0)
        {
            var chosen = new List<NetworkInterface>();
            foreach (string name in _options.Interfaces)
            {
                NetworkInterface? found = all.FirstOrDefault(n => n.Name == name);
                if (found is not null)
                {
                    chosen.Add(found);
                }
                else if (throwIfMissing)
                {
                    throw new InvalidOperationException($"The network interface '{name}' named in LocalPeerDiscoveryOptions.Interfaces does not exist (there are: {string.Join(", ", all.Select(n => n.Name))}).");
                }
            }

            return chosen;
        }

        return [.. all.Where(n => n.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown
            && n.SupportsMulticast
            && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)];
    }

    /// <summary>Opens a group's socket, bound to the LSD port; it joins the group on interfaces as scans find them.</summary>
    private void OpenGroup(AddressFamily family, IPAddress group)
    {
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
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        lock (_lock)
        {
            _groups.Add(new GroupSocket(socket, family, group, new IPEndPoint(group, _options.Port), LsdMessage.HostHeader(group, _options.Port)));
        }
    }

    /// <summary>
    /// Brings every group's memberships in line with <paramref name="interfaces"/>: joins those that have an address
    /// of the group's family and are not joined yet, keeps the address of those joined current, and leaves the rest.
    /// </summary>
    /// <returns><see langword="true"/> when an interface was joined.</returns>
    private bool JoinInterfaces(List<NetworkInterface> interfaces)
    {
        bool joinedAny = false;
        foreach (GroupSocket group in _groups)
        {
            AddressFamily family = group.Family;
            SocketOptionLevel level = family == AddressFamily.InterNetwork ? SocketOptionLevel.IP : SocketOptionLevel.IPv6;
            IReadOnlyList<LsdInterface> current;
            lock (_lock)
            {
                current = group.Interfaces;
            }

            var next = new List<LsdInterface>();
            var joined = new List<string>();
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
                if (current.Any(i => i.Index == index))
                {
                    next.Add(new LsdInterface(networkInterface.Name, index, source));
                    continue;
                }

                try
                {
                    if (family == AddressFamily.InterNetwork)
                    {
                        group.Socket.SetSocketOption(level, SocketOptionName.AddMembership, new MulticastOption(group.Address, index));
                    }
                    else
                    {
                        group.Socket.SetSocketOption(level, SocketOptionName.AddMembership, new IPv6MulticastOption(group.Address, index));
                    }
                }
                catch (SocketException e)
                {
                    if (_joinFailed.Add((family, index)))
                    {
                        Log.LsdJoinFailed(_logger, networkInterface.Name, group.Address, e.SocketErrorCode);
                    }

                    continue;
                }

                _joinFailed.Remove((family, index));
                next.Add(new LsdInterface(networkInterface.Name, index, source));
                joined.Add(networkInterface.Name);
            }

            foreach (LsdInterface gone in current.Where(i => !next.Any(n => n.Index == i.Index)))
            {
                Leave(group, gone);
            }

            lock (_lock)
            {
                group.Interfaces = next;
            }

            if (joined.Count > 0)
            {
                joinedAny = true;
                Log.LsdListening(_logger, group.Address, _options.Port, string.Join(", ", joined));
            }
        }

        InterfaceScans++;
        return joinedAny;
    }

    private void Leave(GroupSocket group, LsdInterface networkInterface)
    {
        try
        {
            if (group.Family == AddressFamily.InterNetwork)
            {
                group.Socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.DropMembership, new MulticastOption(group.Address, networkInterface.Index));
            }
            else
            {
                group.Socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.DropMembership, new IPv6MulticastOption(group.Address, networkInterface.Index));
            }
        }
        catch (SocketException e)
        {
            // An interface that is gone took its membership with it.
            Log.LsdLeaveFailed(_logger, networkInterface.Name, group.Address, e.SocketErrorCode);
        }

        Log.LsdLeft(_logger, networkInterface.Name, group.Address);
    }

    /// <summary>Wakes the announce loop for a round as soon as the limit allows; a full semaphore already promises one.</summary>
    private void WakeAnnounceLoop()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Woken by someone else at the same moment: one round covers both.
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile.
            }
        }
    }

    private async Task AnnounceLoopAsync(CancellationToken cancellationToken)
    {
        long lastRound = 0;
        TimeSpan untilDue = Timeout.InfiniteTimeSpan;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // The next round is due an interval after the last, however late this loop came back to wait for it.
                TimeSpan wait = untilDue;
                if (untilDue != Timeout.InfiniteTimeSpan)
                {
                    TimeSpan left = untilDue - _time.GetElapsedTime(lastRound);
                    wait = left > TimeSpan.Zero ? left : TimeSpan.Zero;
                }

                if (wait != TimeSpan.Zero)
                {
                    await WaitForWakeAsync(wait, cancellationToken).ConfigureAwait(false);
                }

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

                // With no interface joined nothing would go out: wait for a registration or a scan that joins one,
                // and keep the announce limit for rounds that reach the network.
                if (registrations.Length == 0 || !HasInterfaces())
                {
                    untilDue = Timeout.InfiniteTimeSpan;
                    continue;
                }

                SendRound(registrations);
                lastRound = _time.GetTimestamp();
                AnnounceRounds++;
                untilDue = _options.AnnounceInterval;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private bool HasInterfaces()
    {
        lock (_lock)
        {
            return _groups.Any(g => g.Interfaces.Count > 0);
        }
    }

    private void SendRound(Registration[] registrations)
    {
        byte[] buffer = new byte[LsdMessage.MaxSendLength + 64];
        foreach (GroupSocket group in _groups)
        {
            IReadOnlyList<LsdInterface> interfaces;
            lock (_lock)
            {
                interfaces = group.Interfaces;
            }

            int perMessage = LsdMessage.HashesPerMessage(group.Host, Cookie);
            foreach (IGrouping<int, Registration> byPort in registrations.GroupBy(r => r.Port))
            {
                InfoHash[] hashes = [.. byPort.Select(r => r.InfoHash).Distinct()];
                foreach (InfoHash[] chunk in hashes.Chunk(perMessage))
                {
                    int length = LsdMessage.Write(buffer, group.Host, byPort.Key, chunk, Cookie);
                    foreach (LsdInterface networkInterface in interfaces)
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

    /// <summary>One group's socket and the interfaces it joined the group on; <see cref="Interfaces"/> is replaced whole, under the discovery's lock.</summary>
    private sealed record GroupSocket(Socket Socket, AddressFamily Family, IPAddress Address, IPEndPoint Destination, string Host)
    {
        public IReadOnlyList<LsdInterface> Interfaces { get; set; } = [];
    }

    private sealed class Registration(LocalPeerDiscovery owner, InfoHash infoHash, int port, Action<IPEndPoint> onPeer) : IDisposable
    {
        public InfoHash InfoHash { get; } = infoHash;

        public int Port { get; } = port;

        public Action<IPEndPoint> OnPeer { get; } = onPeer;

        public void Dispose() => owner.Unregister(this);
    }
}
