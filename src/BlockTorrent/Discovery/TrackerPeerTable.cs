using System.Net;
using System.Security.Cryptography;
using BlockTorrent.Manifest;

namespace BlockTorrent.Discovery;

/// <summary>
/// The embedded tracker's memory: per torrent, the peers that announced within the peer timeout, keyed by address
/// and port (so a peer can only change or remove its own entry). Bounded in torrents, in peers per torrent, and in
/// peers per torrent from one address.
/// Thread-safe.
/// </summary>
internal sealed class TrackerPeerTable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<InfoHash, Swarm> _torrents = [];
    private readonly int _maxTorrents;
    private readonly int _maxPeersPerTorrent;
    private readonly int _maxPeersPerAddress;
    private readonly bool _exemptLoopback;
    private readonly TimeSpan _peerTimeout;
    private readonly TimeProvider _time;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="maxTorrents">The most torrents tracked.</param>
    /// <param name="maxPeersPerTorrent">The most peers listed per torrent.</param>
    /// <param name="maxPeersPerAddress">The most peers listed per torrent from one address (loopback ones exempt when <paramref name="exemptLoopback"/>).</param>
    /// <param name="peerTimeout">How long a peer stays listed without announcing.</param>
    /// <param name="time">The clock.</param>
    /// <param name="exemptLoopback">Whether loopback addresses (this machine's peers) may list any number of ports.</param>
    public TrackerPeerTable(int maxTorrents, int maxPeersPerTorrent, int maxPeersPerAddress, TimeSpan peerTimeout, TimeProvider time, bool exemptLoopback = true)
    {
        _exemptLoopback = exemptLoopback;
        _maxTorrents = maxTorrents;
        _maxPeersPerTorrent = maxPeersPerTorrent;
        _maxPeersPerAddress = maxPeersPerAddress;
        _peerTimeout = peerTimeout;
        _time = time;
    }

    /// <summary>Gets the number of torrents tracked.</summary>
    public int TorrentCount
    {
        get
        {
            lock (_lock)
            {
                return _torrents.Count;
            }
        }
    }

    /// <summary>Records an announce and picks peers to return.</summary>
    /// <param name="infoHash">The torrent (20 bytes).</param>
    /// <param name="peer">The announcing peer's address and port.</param>
    /// <param name="peerId">Its peer id.</param>
    /// <param name="left">Its bytes left (0 = seed).</param>
    /// <param name="event">The announce event.</param>
    /// <param name="numWant">How many peers to return at most.</param>
    /// <param name="peers">Receives the chosen peers (never the announcing one), in random order.</param>
    /// <param name="stats">The torrent's counters after the announce.</param>
    /// <returns><see langword="false"/> when the torrent is new and the table is full.</returns>
    public bool Announce(InfoHash infoHash, IPEndPoint peer, byte[] peerId, long left, AnnounceEvent @event, int numWant, List<TrackedPeer> peers, out ScrapeStats stats)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (!_torrents.TryGetValue(infoHash, out Swarm? swarm))
            {
                if (@event == AnnounceEvent.Stopped)
                {
                    stats = default;
                    return true;
                }

                if (_torrents.Count >= _maxTorrents)
                {
                    SweepLocked(now);
                    if (_torrents.Count >= _maxTorrents)
                    {
                        stats = default;
                        return false;
                    }
                }

                swarm = new Swarm();
                _torrents.Add(infoHash, swarm);
            }

            swarm.Expire(now, _time, _peerTimeout);
            if (@event == AnnounceEvent.Stopped)
            {
                swarm.Remove(peer);
            }
            else
            {
                if (swarm.Peers.TryGetValue(peer, out TrackedPeer? known))
                {
                    if (@event == AnnounceEvent.Completed && known.Left > 0)
                    {
                        swarm.Completed++;
                    }

                    known.PeerId = peerId;
                    known.Left = left;
                    known.LastSeen = now;
                }
                else if (swarm.Peers.Count < _maxPeersPerTorrent && (swarm.CountAt(peer.Address) < _maxPeersPerAddress || (_exemptLoopback && IPAddress.IsLoopback(peer.Address))))
                {
                    swarm.Add(new TrackedPeer(peer, peerId, left, now));
                    if (@event == AnnounceEvent.Completed)
                    {
                        swarm.Completed++;
                    }
                }

                Pick(swarm, peer, numWant, peers);
            }

            stats = swarm.Stats;
            if (swarm.Peers.Count == 0)
            {
                _torrents.Remove(infoHash);
            }

            return true;
        }
    }

    /// <summary>Gets a torrent's counters.</summary>
    /// <param name="infoHash">The torrent.</param>
    /// <param name="stats">Its counters.</param>
    /// <returns><see langword="false"/> when the torrent is not tracked.</returns>
    public bool TryScrape(InfoHash infoHash, out ScrapeStats stats)
    {
        lock (_lock)
        {
            if (_torrents.TryGetValue(infoHash, out Swarm? swarm))
            {
                swarm.Expire(_time.GetTimestamp(), _time, _peerTimeout);
                stats = swarm.Stats;
                return true;
            }

            stats = default;
            return false;
        }
    }

    /// <summary>Drops a torrent and every peer listed for it.</summary>
    /// <param name="infoHash">The torrent.</param>
    public void Forget(InfoHash infoHash)
    {
        lock (_lock)
        {
            _torrents.Remove(infoHash);
        }
    }

    /// <summary>Gets every tracked torrent.</summary>
    /// <returns>A snapshot of the info-hashes.</returns>
    public InfoHash[] Torrents()
    {
        lock (_lock)
        {
            return [.. _torrents.Keys];
        }
    }

    /// <summary>Drops expired peers, and torrents left without peers.</summary>
    public void Sweep()
    {
        lock (_lock)
        {
            SweepLocked(_time.GetTimestamp());
        }
    }

    private static void Pick(Swarm swarm, IPEndPoint requester, int numWant, List<TrackedPeer> peers)
    {
        if (numWant <= 0)
        {
            return;
        }

        // A partial Fisher–Yates shuffle: every peer is equally likely, and only numWant swaps are done.
        TrackedPeer[] candidates = [.. swarm.Peers.Values.Where(p => !p.EndPoint.Equals(requester))];
        int count = Math.Min(numWant, candidates.Length);
        for (int i = 0; i < count; i++)
        {
            int j = RandomNumberGenerator.GetInt32(i, candidates.Length);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
            peers.Add(candidates[i]);
        }
    }

    private void SweepLocked(long now)
    {
        foreach ((InfoHash infoHash, Swarm swarm) in _torrents.ToArray())
        {
            swarm.Expire(now, _time, _peerTimeout);
            if (swarm.Peers.Count == 0)
            {
                _torrents.Remove(infoHash);
            }
        }
    }

    private sealed class Swarm
    {
        // How many listed peers each address has, so one host cannot fill a torrent's list with its own ports.
        private readonly Dictionary<IPAddress, int> _perAddress = [];

        public Dictionary<IPEndPoint, TrackedPeer> Peers { get; } = [];

        public int Completed { get; set; }

        public ScrapeStats Stats
        {
            get
            {
                int seeders = Peers.Values.Count(p => p.Left == 0);
                return new ScrapeStats(seeders, Completed, Peers.Count - seeders);
            }
        }

        public int CountAt(IPAddress address) => _perAddress.GetValueOrDefault(address);

        public void Add(TrackedPeer peer)
        {
            Peers.Add(peer.EndPoint, peer);
            _perAddress[peer.EndPoint.Address] = CountAt(peer.EndPoint.Address) + 1;
        }

        public void Remove(IPEndPoint endPoint)
        {
            if (!Peers.Remove(endPoint))
            {
                return;
            }

            int left = CountAt(endPoint.Address) - 1;
            if (left == 0)
            {
                _perAddress.Remove(endPoint.Address);
            }
            else
            {
                _perAddress[endPoint.Address] = left;
            }
        }

        public void Expire(long now, TimeProvider time, TimeSpan timeout)
        {
            foreach (TrackedPeer peer in Peers.Values.Where(p => time.GetElapsedTime(p.LastSeen, now) > timeout).ToArray())
            {
                Remove(peer.EndPoint);
            }
        }
    }
}

/// <summary>A peer the embedded tracker lists.</summary>
/// <param name="endPoint">Its address and port.</param>
/// <param name="peerId">Its peer id.</param>
/// <param name="left">Its bytes left.</param>
/// <param name="lastSeen">When it last announced (a <see cref="TimeProvider"/> timestamp).</param>
internal sealed class TrackedPeer(IPEndPoint endPoint, byte[] peerId, long left, long lastSeen)
{
    /// <summary>Gets its address and port.</summary>
    public IPEndPoint EndPoint { get; } = endPoint;

    /// <summary>Gets or sets its peer id.</summary>
    public byte[] PeerId { get; set; } = peerId;

    /// <summary>Gets or sets its bytes left.</summary>
    public long Left { get; set; } = left;

    /// <summary>Gets or sets when it last announced.</summary>
    public long LastSeen { get; set; } = lastSeen;
}
