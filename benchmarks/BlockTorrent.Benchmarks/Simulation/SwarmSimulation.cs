using BlockTorrent.Swarm;
using BlockTorrent.Wire;

namespace BlockTorrent.Benchmarks.Simulation;

/// <summary>
/// A discrete-time simulation of one seed and many targets on shaped links, driven by the library's own policy
/// objects: each target's <see cref="PiecePicker"/> decides what it requests from whom, a <see cref="RequestQueue"/> per
/// connection how deep its pipeline is, every node's <see cref="Choker"/> whom it uploads to, and the seed's
/// <see cref="SuperSeeder"/> what it offers (<see cref="SuperSeeder.ForTorrent"/>, as every swarm makes it). The simulation owns only what the network and the sessions do: links,
/// bytes in flight, messages, and the glue the swarm and request pump put around those objects.
/// </summary>
/// <remarks>
/// <para>
/// Every step (<see cref="SimulationOptions.Step"/>) each node's upload and download are shared among the connections
/// that have requested blocks outstanding, as TCP flows share a bottleneck (max-min fair, by a few rounds of water
/// filling); each flow carries its requested blocks in order. A block's arrival, a piece's completion and a have or
/// offer reach the other end within the same step (a LAN's round trip is far below a step). Pieces verify at once and
/// cost no CPU: the simulation shows the policy on the network alone, what the namespace swarm cannot at this size.
/// </para>
/// <para>
/// Targets download until complete and keep serving after. The leaving targets drop every connection at
/// <see cref="SimulationOptions.LeaveAt"/>; their peers release what they had asked of them, as on a closed connection.
/// </para>
/// </remarks>
internal sealed class SwarmSimulation
{
    private const long Frequency = 1_000_000;
    private const int MaxQueueDepth = 500;
    private static readonly TimeSpan QueueTime = TimeSpan.FromSeconds(0.5);
    private static readonly TimeSpan ChokeInterval = TimeSpan.FromSeconds(10);

    private readonly SimulationOptions _options;
    private readonly Node _seed;
    private readonly Node[] _targets;
    private readonly List<Connection> _connections = [];
    private readonly SuperSeeder? _superSeeder;
    private readonly int _pieceCount;
    private readonly int _piecesInMemory;
    private readonly BlockRequest[] _picked = new BlockRequest[MaxQueueDepth];
    private readonly List<PieceCancel> _cancels = [];
    private readonly List<SimulationSample> _timeline = [];
    private readonly Bitfield _onTargets;
    private long _now;
    private long _stepEnd;

    public SwarmSimulation(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _pieceCount = (int)((options.ImageBytes + options.PieceLength - 1) / options.PieceLength);
        _onTargets = new Bitfield(_pieceCount);
        _piecesInMemory = Math.Max(2, (int)((64L << 20) / options.PieceLength));
        var random = new Random(options.Seed);
        _seed = new Node(-1, options.LinkRate, null, _pieceCount, options.Seed);
        _seed.Has.SetAll();
        int slow = (int)Math.Round(options.Targets * options.SlowShare);
        int leaving = options.LeaveShare > 0 ? Math.Max(1, (int)Math.Round(options.Targets * options.LeaveShare)) : 0;
        int[] order = [.. Enumerable.Range(0, options.Targets)];
        random.Shuffle(order);
        SlowTargets = [.. order.Take(slow)];
        LeftTargets = [.. order.Skip(slow).Take(leaving)];
        var wanted = new Bitfield(_pieceCount);
        wanted.SetAll();
        _targets = new Node[options.Targets];
        for (int t = 0; t < options.Targets; t++)
        {
            double rate = SlowTargets.Contains(t) ? options.LinkRate / options.SlowFactor : options.LinkRate;
            var picker = new PiecePicker(_pieceCount, PieceSize, wanted, options.PieceLength, random: new Random(options.Seed * 7919 + t));
            _targets[t] = new Node(t, rate, picker, _pieceCount, options.Seed + t);
        }

        if (options.SuperSeeding != SuperSeedMode.Never)
        {
            _superSeeder = SuperSeeder.ForTorrent(_pieceCount, options.PieceLength, Frequency, canonical: null, options.SuperSeeding == SuperSeedMode.Adaptive, new Random(options.Seed));
        }

        Connect(random);
    }

    /// <summary>Gets the targets on slow links.</summary>
    public HashSet<int> SlowTargets { get; }

    /// <summary>Gets the targets that leave part-way.</summary>
    public HashSet<int> LeftTargets { get; }

    /// <summary>Runs the swarm until every remaining target has the image, or the time limit.</summary>
    public SimulationResult Run()
    {
        long step = (long)(_options.Step * Frequency);
        long leaveAt = (long)(_options.LeaveAt * _options.ImageBytes / _options.LinkRate * Frequency);
        long limit = (long)(_options.TimeLimit * Frequency);
        long nextChoke = 0, nextTick = 0;
        bool left = false;
        foreach (Connection c in _connections)
        {
            Offer(c);
        }

        while (_now < limit && !_targets.Where(t => !LeftTargets.Contains(t.Id)).All(t => t.CompletedAt is not null))
        {
            if (!left && _now >= leaveAt)
            {
                left = true;
                foreach (int t in LeftTargets)
                {
                    Leave(_targets[t]);
                }
            }

            if (_now >= nextChoke)
            {
                foreach (Node node in _targets.Append(_seed))
                {
                    Choke(node);
                }

                nextChoke = _now + (long)(ChokeInterval.TotalSeconds * Frequency);
            }

            if (_now >= nextTick)
            {
                // The swarm's once-a-second tick: offers a waiting peer may be due, and each pipeline's rate window.
                foreach (Connection c in _connections)
                {
                    c.Queue.Tick(_now);
                    if (c.Seeding is { } seeding && (seeding.HoldsUnforwarded || _superSeeder!.FirstCopiesInFlight > 0))
                    {
                        Offer(c);
                    }
                }

                nextTick = _now + Frequency;
                Sample();
            }

            Request();
            _stepEnd = _now + step;
            Transfer(step);
            _now = _stepEnd;
        }

        return new SimulationResult(
            _options,
            [.. _targets.Select(t => t.CompletedAt is long at ? at / (double)Frequency : (double?)null)],
            LeftTargets,
            SlowTargets,
            (long)_seed.Uploaded,
            (long)(_seed.Uploaded + _targets.Sum(t => t.Uploaded)),
            _targets.Sum(t => t.Received),
            _timeline);
    }

    // The once-a-second sample of the timeline.
    private void Sample() => _timeline.Add(new SimulationSample(
        _now / (double)Frequency,
        (long)_seed.Uploaded,
        _targets.Average(t => (double)t.Received),
        _targets.Min(t => t.Received),
        _targets.Average(t => (double)t.Has.Count),
        _onTargets.Count,
        _superSeeder?.FirstCopiesInFlight ?? 0));

    private int PieceSize(int piece) => (int)Math.Min(_options.PieceLength, _options.ImageBytes - ((long)piece * _options.PieceLength));

    // The seed connects to every target up to its connection limit (200, the library's default), and each target to
    // about Degree others at random, both ways.
    private void Connect(Random random)
    {
        int[] order = [.. Enumerable.Range(0, _targets.Length)];
        random.Shuffle(order);
        foreach (int t in order.Take(200))
        {
            Link(_seed, _targets[t]);
        }

        var linked = new HashSet<(int, int)>();
        foreach (Node target in _targets)
        {
            for (int attempt = 0; target.Links.Count(c => c.From == target) < Math.Min(_options.Degree, _targets.Length - 1) && attempt < 4 * _options.Degree; attempt++)
            {
                Node other = _targets[random.Next(_targets.Length)];
                if (other != target && linked.Add((Math.Min(target.Id, other.Id), Math.Max(target.Id, other.Id))))
                {
                    Connection there = Link(target, other), back = Link(other, target);
                    there.Reverse = back;
                    back.Reverse = there;
                }
            }
        }
    }

    // One direction of a peer connection: `from` uploads to `to`; `to`'s picker sees `from` through Pick.
    private Connection Link(Node from, Node to)
    {
        var c = new Connection(from, to, _pieceCount, _now);
        if (from == _seed)
        {
            if (_superSeeder is null)
            {
                foreach (int piece in from.Has.SetIndices())
                {
                    c.Pick.Has.Set(piece);
                }
            }
            else
            {
                c.Seeding = new SuperSeeder.Peer(to.Has);
                _superSeeder.AddPeer(c.Seeding);
            }
        }

        to.Picker!.AddPeer(c.Pick);
        from.Links.Add(c);
        to.Links.Add(c);
        _connections.Add(c);
        return c;
    }

    // The seed's offers to one peer, as SuperSeedOffers makes them: each offer is a have message; a peer the
    // super-seeder opens (adaptive: it passes nothing on) is told every piece it was not told yet.
    private void Offer(Connection c)
    {
        if (c.Seeding is null || c.Closed)
        {
            return;
        }

        if (_superSeeder!.ShouldOpen(c.Seeding, _now))
        {
            _superSeeder.Open(c.Seeding);
            for (int piece = 0; piece < _pieceCount; piece++)
            {
                c.To.Picker!.PeerHave(c.Pick, piece);
            }

            return;
        }

        for (int piece; (piece = _superSeeder.NextOffer(c.Seeding, _now)) >= 0;)
        {
            c.To.Picker!.PeerHave(c.Pick, piece);
        }
    }

    // The choke round TorrentSwarm.RunChoker makes: every ten seconds, and at once when a peer's interest changes.
    private void Choke(Node node)
    {
        if (node.Left)
        {
            return;
        }

        Connection[] uploads = [.. node.Links.Where(c => c.From == node && !c.Closed)];
        node.Choker.Decide(uploads, seeding: node.Picker is null || node.Picker.IsComplete, _now);
        foreach (Connection c in uploads)
        {
            c.Pick.IsChokingUs = !c.Unchoked;
        }
    }

    // Each target's request pump, per connection: fill the pipeline its RequestQueue sizes with blocks the picker
    // chooses, starting new pieces while there is room and memory (the writer's 64 MiB budget).
    private void Request()
    {
        foreach (Node target in _targets)
        {
            if (target.Left || target.Picker!.IsComplete)
            {
                continue;
            }

            foreach (Connection c in target.Links)
            {
                if (c.To != target || c.Closed)
                {
                    continue;
                }

                bool interested = target.Picker.IsInteresting(c.Pick) || c.Pick.Outstanding > 0;
                if (interested != c.Interested)
                {
                    c.Interested = interested;
                    Choke(c.From);
                }

                if (!c.Interested || c.Pick.IsChokingUs)
                {
                    continue;
                }

                int room = Math.Min(c.Queue.Depth, MaxQueueDepth) - c.Pick.Outstanding;
                while (room > 0)
                {
                    int n = target.Picker.PickBlocks(c.Pick, _picked.AsSpan(0, room));
                    for (int i = 0; i < n; i++)
                    {
                        c.Requests.Enqueue(_picked[i]);
                        c.Queued += _picked[i].Length;
                        if (c.Seeding is not null)
                        {
                            _superSeeder!.PeerRequested(c.Seeding, _picked[i].Piece, _now);
                        }
                    }

                    room -= n;
                    if (room <= 0 || target.Picker.ActiveCount >= _piecesInMemory)
                    {
                        break;
                    }

                    int piece = target.Picker.StartPiece(c.Pick);
                    if (piece < 0)
                    {
                        break;
                    }

                    target.Picker.MarkReady(piece);
                }
            }
        }
    }

    private void Transfer(long step)
    {
        double seconds = step / (double)Frequency;
        var flows = _connections.Where(c => !c.Closed && c.Requests.Count > 0).ToList();
        foreach (Node node in _targets.Append(_seed))
        {
            node.UpLeft = node.Rate * seconds;
            node.DownLeft = node.Rate * seconds;
        }

        // Max-min fair shares by water filling: each round every flow still wanting bytes gets the smaller of its
        // sender's and its receiver's even share of what they have left.
        foreach (Connection c in flows)
        {
            c.Grant = 0;
        }

        for (int round = 0; round < 4 && flows.Count > 0; round++)
        {
            foreach (Node node in _targets.Append(_seed))
            {
                node.FlowsOut = 0;
                node.FlowsIn = 0;
            }

            foreach (Connection c in flows)
            {
                c.From.FlowsOut++;
                c.To.FlowsIn++;
            }

            var grants = new double[flows.Count];
            for (int i = 0; i < flows.Count; i++)
            {
                Connection c = flows[i];
                grants[i] = Math.Min(Math.Min(c.From.UpLeft / c.From.FlowsOut, c.To.DownLeft / c.To.FlowsIn), c.Wanted - c.Grant);
            }

            for (int i = 0; i < flows.Count; i++)
            {
                Connection c = flows[i];
                c.Grant += grants[i];
                c.From.UpLeft -= grants[i];
                c.To.DownLeft -= grants[i];
            }

            flows.RemoveAll(c => c.Wanted - c.Grant < 1 || c.From.UpLeft < 1 || c.To.DownLeft < 1);
        }

        foreach (Connection c in _connections)
        {
            if (c.Grant > 0 && !c.Closed)
            {
                Carry(c, c.Grant);
            }

            c.Grant = 0;
        }
    }

    // Sends a flow's bytes: blocks complete in request order and are handed to the receiver's picker.
    private void Carry(Connection c, double bytes)
    {
        c.From.Uploaded += bytes;
        c.Progress += bytes;
        while (c.Requests.Count > 0 && c.Progress >= c.Requests.Peek().Length)
        {
            BlockRequest block = c.Requests.Dequeue();
            c.Progress -= block.Length;
            c.Queued -= block.Length;
            Receive(c, block);
        }

        if (c.Requests.Count == 0)
        {
            c.Progress = 0;
        }
    }

    private void Receive(Connection c, BlockRequest block)
    {
        Node target = c.To;
        PiecePicker picker = target.Picker!;
        c.Queue.OnBlockReceived(block.Length, _now);
        if (!picker.TryBeginReceive(c.Pick, block))
        {
            return; // a duplicate of a block that was already in: dropped, as the session drops it
        }

        target.Received += block.Length;
        _cancels.Clear();
        bool complete = picker.EndReceive(c.Pick, block, success: true, _cancels);
        Cancel(target);
        if (!complete)
        {
            return;
        }

        picker.PieceFinished(block.Piece, verified: true);
        target.Has.Set(block.Piece);
        _onTargets.Set(block.Piece);
        Announce(target, block.Piece);
        if (picker.IsComplete)
        {
            target.CompletedAt = _stepEnd;
            foreach (Connection incoming in target.Links.Where(l => l.To == target))
            {
                incoming.Interested = false;
            }
        }
    }

    // Endgame cancels: the other peers that were asked for the same block drop it from their queues.
    private void Cancel(Node target)
    {
        foreach (PieceCancel cancel in _cancels)
        {
            foreach (Connection other in target.Links)
            {
                if (other.To == target && other.Pick == cancel.Peer && other.Requests.Contains(cancel.Block))
                {
                    // A block the sender has begun stays (its bytes are on the way); the rest leave its queue.
                    if (other.Requests.Peek() == cancel.Block && other.Progress > 0)
                    {
                        break;
                    }

                    other.Requests = new Queue<BlockRequest>(other.Requests.Where(b => b != cancel.Block));
                    other.Queued -= cancel.Block.Length;
                    break;
                }
            }
        }
    }

    // A have message to every peer: their pickers count it, and the seed's super-seeder hears that the piece arrived.
    private void Announce(Node target, int piece)
    {
        foreach (Connection c in target.Links)
        {
            if (c.Closed)
            {
                continue;
            }

            if (c.From == target)
            {
                c.To.Picker!.PeerHave(c.Pick, piece);
            }
            else if (c.Seeding is not null && _superSeeder!.PeerHave(c.Seeding, piece, _now))
            {
                foreach (Connection other in _seed.Links)
                {
                    if (other != c)
                    {
                        Offer(other);
                    }
                }

                Offer(c);
            }
            else if (c.Seeding is not null)
            {
                Offer(c);
            }
        }
    }

    private void Leave(Node target)
    {
        target.Left = true;
        foreach (Connection c in target.Links)
        {
            c.Closed = true;
            c.Requests.Clear();
            c.Queued = 0;
            if (c.From == target)
            {
                c.To.Picker!.RemovePeer(c.Pick);
            }
            else
            {
                target.Picker!.RemovePeer(c.Pick);
                if (c.Seeding is not null)
                {
                    _superSeeder!.RemovePeer(c.Seeding);
                }
            }

            (c.From == target ? c.To : c.From).Links.Remove(c);
        }

        _connections.RemoveAll(c => c.Closed);
        target.Links.Clear();
    }

    private sealed class Node(int id, double rate, PiecePicker? picker, int pieceCount, int seed)
    {
        public int Id { get; } = id;

        public double Rate { get; } = rate;

        public PiecePicker? Picker { get; } = picker;

        /// <summary>Gets the pieces the node holds (what its have messages have told).</summary>
        public Bitfield Has { get; } = new(pieceCount);

        public List<Connection> Links { get; } = [];

        public Choker Choker { get; } = new(ChokingPolicy.UnchokeAll, 0, Frequency * 30, new Random(seed));

        public long? CompletedAt { get; set; }

        public bool Left { get; set; }

        public double Uploaded { get; set; }

        public long Received { get; set; }

        public double UpLeft { get; set; }

        public double DownLeft { get; set; }

        public int FlowsOut { get; set; }

        public int FlowsIn { get; set; }
    }

    private sealed class Connection(Node from, Node to, int pieceCount, long now) : IChokeable
    {
        public Node From { get; } = from;

        public Node To { get; } = to;

        /// <summary>Gets the receiver's view of the sender for its picker.</summary>
        public PickerPeer Pick { get; } = new(pieceCount);

        /// <summary>Gets the receiver's pipeline toward the sender.</summary>
        public RequestQueue Queue { get; } = new(4, MaxQueueDepth, QueueTime, now, Frequency);

        /// <summary>Gets or sets the blocks requested and not yet sent, in order, at the sender.</summary>
        public Queue<BlockRequest> Requests { get; set; } = new();

        public SuperSeeder.Peer? Seeding { get; set; }

        public bool Closed { get; set; }

        public double Progress { get; set; }

        public double Grant { get; set; }

        /// <summary>Gets or sets the bytes of the blocks in <see cref="Requests"/>.</summary>
        public long Queued { get; set; }

        /// <summary>Gets the bytes the sender still has to send for what was requested.</summary>
        public double Wanted => Queued - Progress;

        /// <summary>Gets or sets the connection the other way between the same two nodes, if any.</summary>
        public Connection? Reverse { get; set; }

        public bool Interested { get; set; }

        public bool IsInterested => Interested;

        public double DownloadRate => Reverse?.Queue.Rate ?? 0;

        public double UploadRate => Queue.Rate;

        public bool Unchoked { get; set; }
    }
}
