using System.Buffers;
using System.Net;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm.Extensions;

/// <summary>
/// BEP 11 (<c>ut_pex</c>) both ways: the peers a peer tells us of become candidates to dial, and every
/// <c>interval</c> each peer that speaks it is told which of our peers it has not heard of from us yet (added) and
/// which we lost since (dropped), by their listen endpoints. Never registered for a private torrent.
/// </summary>
/// <remarks>
/// A peer's lists are taken at most once per <see cref="MinMessageInterval"/> and at most the first
/// <c>maxAccepted</c> added peers of each (BEP 11: one message a minute, 50 added): a peer flooding us with lists
/// adds a few dozen candidates a minute, which the swarm filters again (<see cref="PeerCandidates"/>).
/// </remarks>
internal sealed class PeerExchange : PeerExtension
{
    // BEP 11: at most 50 added and 50 dropped peers per ut_pex message.
    private const int MaxPeers = 50;

    private readonly Action<IPEndPoint, IEnumerable<IPEndPoint>> _addCandidates;
    private readonly long _interval;
    private readonly TimeProvider _time;
    private readonly int _maxAccepted;

    // When each peer's last list was taken (under its own lock: messages arrive on every session's receive loop).
    private readonly Dictionary<IExtensionPeer, long> _taken = [];
    private readonly Dictionary<IExtensionPeer, HashSet<IPEndPoint>> _sent = [];
    private long _last;

    /// <summary>Initializes a new instance of the <see cref="PeerExchange"/> class.</summary>
    /// <param name="addCandidates">Takes the peers we are told of, with the address of the peer that told us (called outside the swarm's lock).</param>
    /// <param name="interval">How often peers are told of ours, in timestamp ticks.</param>
    /// <param name="time">The clock.</param>
    /// <param name="maxAccepted">The most added peers taken from one message.</param>
    public PeerExchange(Action<IPEndPoint, IEnumerable<IPEndPoint>> addCandidates, long interval, TimeProvider time, int maxAccepted = MaxPeers)
        : base(ExtensionHandshake.UtPexName, advertised: true)
    {
        _addCandidates = addCandidates;
        _interval = interval;
        _time = time;
        _maxAccepted = maxAccepted;
    }

    /// <summary>Gets how long after taking a peer's list the next one it sends is ignored.</summary>
    public static TimeSpan MinMessageInterval { get; } = TimeSpan.FromMinutes(1);

    /// <inheritdoc/>
    public override string? OnMessage(IExtensionPeer peer, PeerMessage message)
    {
        if (PexMessage.TryParse(message.Payload.ToArray()) is not { } pex)
        {
            return "an invalid ut_pex message";
        }

        long now = _time.GetTimestamp();
        lock (_taken)
        {
            if (_taken.TryGetValue(peer, out long last) && _time.GetElapsedTime(last, now) < MinMessageInterval)
            {
                SwarmMetrics.CandidatesRejected.Add(pex.Added.Count, new KeyValuePair<string, object?>("reason", "pex-rate"));
                return null;
            }

            _taken[peer] = now;
        }

        _addCandidates(peer.Remote, pex.Added.Take(_maxAccepted).Select(p => p.EndPoint));
        return null;
    }

    /// <inheritdoc/>
    public override void Tick(long now, IReadOnlyList<IExtensionPeer> peers)
    {
        if (now - _last < _interval)
        {
            return;
        }

        _last = now;
        var current = new Dictionary<IPEndPoint, PexFlags>();
        foreach (IExtensionPeer p in peers)
        {
            if (p.ReachableAt is { } endPoint)
            {
                current[endPoint] = (p.IsOutgoing ? PexFlags.Reachable : PexFlags.None) | (p.IsSeed ? PexFlags.Seed : PexFlags.None);
            }
        }

        foreach (IExtensionPeer p in peers)
        {
            byte id = p.RemoteExtensions?.IdFor(Name) ?? 0;
            if (id == 0)
            {
                continue;
            }

            if (!_sent.TryGetValue(p, out HashSet<IPEndPoint>? sent))
            {
                _sent[p] = sent = [];
            }

            IPEndPoint? itself = p.ReachableAt;
            var message = new PexMessage();
            foreach ((IPEndPoint endPoint, PexFlags flags) in current)
            {
                if (message.Added.Count < MaxPeers && !endPoint.Equals(itself) && sent.Add(endPoint))
                {
                    message.Added.Add(new PexPeer(endPoint, flags));
                }
            }

            foreach (IPEndPoint endPoint in sent)
            {
                if (message.Dropped.Count < MaxPeers && !current.ContainsKey(endPoint))
                {
                    message.Dropped.Add(new PexPeer(endPoint, PexFlags.None));
                }
            }

            sent.ExceptWith(message.Dropped.Select(d => d.EndPoint));
            if (message.Added.Count + message.Dropped.Count == 0)
            {
                continue;
            }

            var payload = new ArrayBufferWriter<byte>(256);
            message.WriteTo(payload);
            p.SendExtended(id, payload.WrittenSpan.ToArray());
        }
    }

    /// <inheritdoc/>
    public override void OnPeerClosed(IExtensionPeer peer)
    {
        _sent.Remove(peer);
        lock (_taken)
        {
            _taken.Remove(peer);
        }
    }
}
