using BlockTorrent.Swarm;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Swarm;

public sealed class SuperSeederTests
{
    private const long Second = 1000;

    [Fact]
    public void APieceOurSourceNoLongerHoldsIsNeverOfferedAgainAndFreesTheOfferItHeld()
    {
        var seeder = NewSeeder(4, offers: 1);
        var peer = new SuperSeeder.Peer(new Bitfield(4));
        seeder.AddPeer(peer);
        int first = seeder.NextOffer(peer, 0);

        seeder.Withdraw(first);

        Assert.DoesNotContain(first, peer.Offers);
        var offered = new List<int>();
        for (int i = 0; i < 6; i++)
        {
            offered.Add(seeder.NextOffer(peer, 0));
            peer.Offers.Clear();
        }

        Assert.DoesNotContain(first, offered);
        Assert.Equal(3, offered.Take(3).Distinct().Count());
    }

    [Fact]
    public void EmptyPeersAreOfferedDistinctPiecesWhileThereAreEnough() => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => EmptyPeersAreOfferedDistinctPiecesWhileThereAreEnoughFor(seed)).CheckSeeded(maxTest: 200);

    private bool EmptyPeersAreOfferedDistinctPiecesWhileThereAreEnoughFor(int seed)
    {
        var random = new Random(seed);
        int pieces = random.Next(1, 100);
        int peers = random.Next(1, pieces + 1);
        var seeder = NewSeeder(pieces, offers: 1, random: random);
        var offered = new HashSet<int>();
        for (int p = 0; p < peers; p++)
        {
            var peer = new SuperSeeder.Peer(new Bitfield(pieces));
            seeder.AddPeer(peer);
            offered.Add(seeder.NextOffer(peer, 0));
        }

        return offered.Count == peers && !offered.Contains(-1);
    }

    [Fact]
    public void EveryPieceIsOfferedOnceBeforeAnyIsOfferedTwice() => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => EveryPieceIsOfferedOnceBeforeAnyIsOfferedTwiceFor(seed)).CheckSeeded(maxTest: 200);

    private bool EveryPieceIsOfferedOnceBeforeAnyIsOfferedTwiceFor(int seed)
    {
        // Peers request every offer, announce them in a random order, and the seed keeps offering: until every piece
        // has left once, no piece goes out a second time.
        var random = new Random(seed);
        int pieces = random.Next(1, 60);
        var seeder = NewSeeder(pieces, offers: 2, random: random);
        var peers = Enumerable.Range(0, random.Next(1, 6)).Select(_ => new SuperSeeder.Peer(new Bitfield(pieces))).ToList();
        peers.ForEach(seeder.AddPeer);
        var offeredOnce = new HashSet<int>();
        long now = 0;
        for (int step = 0; step < pieces * 4; step++)
        {
            SuperSeeder.Peer peer = peers[random.Next(peers.Count)];
            int piece = OfferRequested(seeder, peer, now);
            if (piece >= 0 && !offeredOnce.Add(piece) && offeredOnce.Count < pieces)
            {
                return false;
            }

            if (peer.Offers.Count > 0 && random.Next(2) == 0)
            {
                int done = peer.Offers.First();
                peer.Has.Set(done);
                seeder.PeerHave(peer, done, now);
            }

            now += Second / 10;
        }

        return true;
    }

    [Fact]
    public void APieceThePeerHasIsNeverOfferedToIt()
    {
        var seeder = NewSeeder(3, offers: 2);
        var has = new Bitfield(3);
        has.Set(0);
        has.Set(2);
        var peer = new SuperSeeder.Peer(has);
        seeder.AddPeer(peer);
        Assert.Equal(1, seeder.NextOffer(peer, 0));
        Assert.Equal(-1, seeder.NextOffer(peer, 0));
    }

    [Fact]
    public void AnAnnouncedOfferFreesThePieceForOthersLast()
    {
        var seeder = NewSeeder(2, offers: 1, random: new Random(3));
        var a = new SuperSeeder.Peer(new Bitfield(2));
        seeder.AddPeer(a);
        int first = seeder.NextOffer(a, 0);
        a.Has.Set(first);
        seeder.PeerHave(a, first, 0);
        Assert.Equal(0, seeder.OfferedCount(first));

        // The other piece has been seen by nobody: a new peer gets it first.
        var b = new SuperSeeder.Peer(new Bitfield(2));
        seeder.AddPeer(b);
        Assert.Equal(1 - first, seeder.NextOffer(b, 0));
    }

    [Fact]
    public void APieceOnItsWayToItsFirstHolderIsOfferedToAnotherPeerOnlyWhenNothingElseIsLeft()
    {
        var seeder = NewSeeder(3, offers: 1, random: new Random(1));
        var a = new SuperSeeder.Peer(new Bitfield(3));
        var b = new SuperSeeder.Peer(new Bitfield(3));
        seeder.AddPeer(a);
        seeder.AddPeer(b);
        int inFlight = OfferRequested(seeder, a, 0);
        int other = OfferRequested(seeder, b, 0);
        b.Has.Set(other);
        seeder.PeerHave(b, other, 0);

        // b holds one piece, a is still fetching one: b's next offer is the third piece, never the one in flight to a.
        int third = 3 - inFlight - other;
        Assert.Equal(third, seeder.NextOffer(b, 0));
        b.Has.Set(third);
        seeder.PeerHave(b, third, 0);
        Assert.Equal(inFlight, seeder.NextOffer(b, 10 * Second));
    }

    [Fact]
    public void APeerThatHasNotPassedOnItsPiecesGetsNoMoreUntilAnotherPeerAnnouncesOne()
    {
        var seeder = NewSeeder(8, offers: 1, held: 2);
        var a = new SuperSeeder.Peer(new Bitfield(8));
        var b = new SuperSeeder.Peer(new Bitfield(8));
        seeder.AddPeer(a);
        seeder.AddPeer(b);
        OfferRequested(seeder, b, 0);
        int first = Fetch(seeder, a, 0);
        Fetch(seeder, a, 0);
        Assert.Equal(-1, seeder.NextOffer(a, Second));

        // b got the first piece from a: a has passed it on and may have another.
        b.Has.Set(first);
        Assert.True(seeder.PeerHave(b, first, Second));
        Assert.NotEqual(-1, seeder.NextOffer(a, Second));
    }

    [Fact]
    public void AnUnforwardedPieceStopsHoldingItsPeerBackAfterTheWait()
    {
        var seeder = NewSeeder(8, offers: 1, held: 1, wait: TimeSpan.FromSeconds(3));
        var a = new SuperSeeder.Peer(new Bitfield(8));
        var b = new SuperSeeder.Peer(new Bitfield(8));
        seeder.AddPeer(a);
        seeder.AddPeer(b);
        OfferRequested(seeder, b, 0);
        Fetch(seeder, a, 0);
        Assert.Equal(-1, seeder.NextOffer(a, 2 * Second));
        Assert.NotEqual(-1, seeder.NextOffer(a, 3 * Second));
    }

    [Fact]
    public void ALonePeerIsNeverHeldBack()
    {
        var seeder = NewSeeder(8, offers: 1, held: 1);
        var a = new SuperSeeder.Peer(new Bitfield(8));
        seeder.AddPeer(a);
        for (int i = 0; i < 8; i++)
        {
            Assert.NotEqual(-1, Fetch(seeder, a, 0));
        }

        Assert.True(a.Has.IsFull);
    }

    [Fact]
    public void APeerThatLeavesGivesBackItsOpenOffers()
    {
        var seeder = NewSeeder(4, offers: 2);
        var a = new SuperSeeder.Peer(new Bitfield(4));
        seeder.AddPeer(a);
        int piece = seeder.NextOffer(a, 0);
        Assert.Equal(1, seeder.OfferedCount(piece));
        seeder.RemovePeer(a);
        Assert.Equal(0, seeder.OfferedCount(piece));
    }

    [Fact]
    public void SecondCopiesWaitUntilTheLastFirstCopyArrives()
    {
        var seeder = NewSeeder(3, offers: 1, hold: TimeSpan.FromSeconds(1));
        var peers = Enumerable.Range(0, 3).Select(_ => new SuperSeeder.Peer(new Bitfield(3))).ToList();
        peers.ForEach(seeder.AddPeer);
        int[] offered = [.. peers.Select(p => OfferRequested(seeder, p, 0))];
        Assert.Equal(3, seeder.FirstCopiesInFlight);

        // Peer 0 has its piece; the other two are still fetching theirs, so it gets no second copy yet.
        Announce(seeder, peers[0], offered[0], Second / 10);
        Assert.Equal(-1, seeder.NextOffer(peers[0], Second / 5));
        Announce(seeder, peers[1], offered[1], Second / 2);
        Assert.Equal(-1, seeder.NextOffer(peers[0], Second / 2));

        // The last first copy arrives: the seeder says others may be offered more, and they are.
        Assert.True(Announce(seeder, peers[2], offered[2], Second * 6 / 10));
        Assert.Equal(0, seeder.FirstCopiesInFlight);
        Assert.NotEqual(-1, seeder.NextOffer(peers[0], Second * 6 / 10));
    }

    [Fact]
    public void AFirstCopyThatDoesNotArriveHoldsSecondCopiesBackOnlyForTheHold()
    {
        var seeder = NewSeeder(2, offers: 1, hold: TimeSpan.FromSeconds(1));
        var stuck = new SuperSeeder.Peer(new Bitfield(2));
        var fast = new SuperSeeder.Peer(new Bitfield(2));
        seeder.AddPeer(stuck);
        seeder.AddPeer(fast);
        OfferRequested(seeder, stuck, 0);
        Announce(seeder, fast, OfferRequested(seeder, fast, 0), 0);
        Assert.Equal(-1, seeder.NextOffer(fast, Second * 9 / 10));

        // A second after the last arrival the stuck piece no longer holds the link: the fast peer may have it too.
        Assert.NotEqual(-1, seeder.NextOffer(fast, Second));
    }

    [Fact]
    public void APeerThatLeavesWithAFirstCopyStopsHoldingSecondCopiesBack()
    {
        var seeder = NewSeeder(2, offers: 1, hold: TimeSpan.FromSeconds(10));
        var leaving = new SuperSeeder.Peer(new Bitfield(2));
        var staying = new SuperSeeder.Peer(new Bitfield(2));
        seeder.AddPeer(leaving);
        seeder.AddPeer(staying);
        int lost = OfferRequested(seeder, leaving, 0);
        Announce(seeder, staying, OfferRequested(seeder, staying, 0), 0);
        seeder.RemovePeer(leaving);

        // The piece went back to never offered: it is the next offer, at once.
        Assert.Equal(0, seeder.FirstCopiesInFlight);
        Assert.Equal(lost, seeder.NextOffer(staying, 0));
    }

    [Fact]
    public void FirstCopiesInFlightCountsThePiecesRequestedAfterAnOfferAndHeldByNobody() => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => FirstCopiesInFlightCountsThePiecesRequestedAfterAnOfferAndHeldByNobodyFor(seed)).CheckSeeded(maxTest: 200);

    private bool FirstCopiesInFlightCountsThePiecesRequestedAfterAnOfferAndHeldByNobodyFor(int seed)
    {
        // Peers come and go, request some of their offers (or none: idle peers), announce some; offers nobody requests
        // run out while the clock moves on.
        var random = new Random(seed);
        int pieces = random.Next(1, 40);
        var seeder = NewSeeder(pieces, offers: 2, random: random);
        var peers = Enumerable.Range(0, random.Next(1, 5)).Select(_ => new SuperSeeder.Peer(new Bitfield(pieces))).ToList();
        peers.ForEach(seeder.AddPeer);
        long now = 0;
        for (int step = 0; step < pieces * 3; step++)
        {
            SuperSeeder.Peer peer = peers[random.Next(peers.Count)];
            switch (random.Next(5))
            {
                case 3 when peer.Offers.Count > 0:
                    seeder.PeerRequested(peer, peer.Offers.ElementAt(random.Next(peer.Offers.Count)), now);
                    break;
                case 0 when peers.Count > 1:
                    seeder.RemovePeer(peer);
                    peers.Remove(peer);
                    var fresh = new SuperSeeder.Peer(new Bitfield(pieces));
                    seeder.AddPeer(fresh);
                    peers.Add(fresh);
                    break;
                case 1 when peer.Offers.Count > 0:
                    Announce(seeder, peer, peer.Offers.First(), now);
                    break;
                default:
                    seeder.NextOffer(peer, now);
                    break;
            }

            now += Second / 4;
            int expected = Enumerable.Range(0, pieces).Count(p => peers.Any(q => q.Requested.Contains(p)) && !peers.Any(q => q.Has[p]));
            bool countsAgree = Enumerable.Range(0, pieces).All(p =>
                seeder.RequestedCount(p) == peers.Count(q => q.Requested.Contains(p)) &&
                seeder.OfferedCount(p) == peers.Count(q => q.Requested.Contains(p) || q.Unrequested.ContainsKey(p)));
            if (seeder.FirstCopiesInFlight != expected || !countsAgree)
            {
                return false;
            }
        }

        return true;
    }

    [Fact]
    public void ALaterCopyOfADuplicateIsOfferedOnlyToAPeerThatHasTheFirstCopy()
    {
        // Pieces 2 and 3 repeat piece 0.
        int[] canonical = [0, 1, 0, 0];
        var seeder = new SuperSeeder(4, 4, 12, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1), Second, new Random(5), p => canonical[p]);
        var peer = new SuperSeeder.Peer(new Bitfield(4));
        seeder.AddPeer(peer);
        int[] first = [seeder.NextOffer(peer, 0), seeder.NextOffer(peer, 0), seeder.NextOffer(peer, 0)];
        Assert.Equal([-1, 0, 1], first.Order());

        // A peer that fetches every piece (it does not fill duplicates in) gets the later copies once it has the first.
        Announce(seeder, peer, 0, 0);
        int[] later = [seeder.NextOffer(peer, 0), seeder.NextOffer(peer, 0), seeder.NextOffer(peer, 0)];
        Assert.Equal([-1, 2, 3], later.Order());
    }

    [Fact]
    public void PeersThatFillDuplicatesInGetEveryPieceFromTheSeedAlone() =>
        Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => PeersThatFillDuplicatesInGetEveryPieceFromTheSeedAloneFor(seed)).CheckSeeded(maxTest: 200);

    private static bool PeersThatFillDuplicatesInGetEveryPieceFromTheSeedAloneFor(int seed)
    {
        // Peers like our targets: they request only the first copy of a duplicate and, once they have it, announce
        // every copy. Every offer must be one they request, or an offer held for ever stops their offers.
        var random = new Random(seed);
        int pieces = random.Next(1, 40);
        int[] canonical = new int[pieces];
        for (int p = 0; p < pieces; p++)
        {
            canonical[p] = p > 0 && random.Next(3) == 0 ? canonical[random.Next(p)] : p;
        }

        var seeder = new SuperSeeder(pieces, random.Next(1, 4), 12, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1), Second, random, p => canonical[p]);
        var peers = Enumerable.Range(0, random.Next(1, 5)).Select(_ => new SuperSeeder.Peer(new Bitfield(pieces))).ToList();
        peers.ForEach(seeder.AddPeer);
        long now = 0;
        for (int step = 0; step < pieces * peers.Count * 8 && peers.Any(p => !p.Has.IsFull); step++)
        {
            SuperSeeder.Peer peer = peers[random.Next(peers.Count)];
            while (seeder.NextOffer(peer, now) >= 0)
            {
            }

            int[] requested = [.. peer.Offers.Where(p => canonical[p] == p)];
            if (requested.Length > 0)
            {
                int fetched = requested[random.Next(requested.Length)];
                for (int copy = 0; copy < pieces; copy++)
                {
                    if (canonical[copy] == fetched)
                    {
                        Announce(seeder, peer, copy, now);
                    }
                }
            }

            now += Second / 2;
        }

        return peers.All(p => p.Has.IsFull);
    }

    [Fact]
    public void APeerNoneOfWhosePiecesIsPassedOnWithinTheWaitIsOpened()
    {
        var seeder = NewSeeder(16, offers: 1, held: 2, adaptive: true);
        var a = new SuperSeeder.Peer(new Bitfield(16));
        seeder.AddPeer(a);
        seeder.AddPeer(new SuperSeeder.Peer(new Bitfield(16)));
        Fetch(seeder, a, 0);
        Fetch(seeder, a, 0);
        Assert.False(seeder.ShouldOpen(a, 2 * Second));
        Assert.True(seeder.ShouldOpen(a, 3 * Second));

        seeder.Open(a);
        Assert.True(a.Open);
        Assert.Equal(-1, seeder.NextOffer(a, 3 * Second));
        Assert.False(seeder.ShouldOpen(a, 4 * Second));
        Assert.Equal(1, seeder.OpenedPeers);
    }

    [Fact]
    public void ALonePeerIsOpenedOnceItsPiecesWentUnsharedForTheWaitAndIsNeverHeldBackBefore()
    {
        var seeder = NewSeeder(16, offers: 1, held: 2, adaptive: true);
        var a = new SuperSeeder.Peer(new Bitfield(16));
        seeder.AddPeer(a);
        for (int i = 0; i < 4; i++)
        {
            Assert.NotEqual(-1, Fetch(seeder, a, i * 100));
        }

        Assert.False(seeder.ShouldOpen(a, Second));
        Assert.True(seeder.ShouldOpen(a, 4 * Second));
    }

    [Fact]
    public void APeerThatPassesOnOneOfItsPiecesWithinTheWaitStaysPaced()
    {
        var seeder = NewSeeder(16, offers: 1, held: 2, adaptive: true);
        var a = new SuperSeeder.Peer(new Bitfield(16));
        var b = new SuperSeeder.Peer(new Bitfield(16));
        seeder.AddPeer(a);
        seeder.AddPeer(b);
        Fetch(seeder, a, 0);
        int passed = Fetch(seeder, a, 0);
        Announce(seeder, b, passed, 2 * Second);
        Fetch(seeder, a, 2 * Second);
        Assert.False(seeder.ShouldOpen(a, 4 * Second));
        Assert.Equal(1, a.UnsharedInARow);
    }

    [Fact]
    public void ASeedThatAlwaysSuperSeedsNeverOpensAPeer()
    {
        var seeder = NewSeeder(16, offers: 1, held: 2);
        var a = new SuperSeeder.Peer(new Bitfield(16));
        seeder.AddPeer(a);
        for (int i = 0; i < 8; i++)
        {
            Fetch(seeder, a, 0);
        }

        Assert.False(seeder.ShouldOpen(a, 10 * Second));
        Assert.Equal(8, a.UnsharedInARow);
    }

    [Fact]
    public void AnOpenedPeerGivesBackItsOpenOffersAndItsPiecesStillCount()
    {
        var seeder = NewSeeder(4, offers: 2, adaptive: true);
        var a = new SuperSeeder.Peer(new Bitfield(4));
        var b = new SuperSeeder.Peer(new Bitfield(4));
        seeder.AddPeer(a);
        seeder.AddPeer(b);
        int held = Fetch(seeder, a, 0);
        int offered = seeder.NextOffer(a, 0);
        seeder.Open(a);
        Assert.Equal(0, seeder.OfferedCount(offered));

        // b gets the three pieces nobody holds first, and last the one a holds.
        var toB = new List<int>();
        for (int piece = Fetch(seeder, b, 0); piece >= 0; piece = Fetch(seeder, b, 0))
        {
            toB.Add(piece);
        }

        Assert.Equal(4, toB.Count);
        Assert.Equal(held, toB[^1]);
    }

    [Fact]
    public void APeerThatToldItsWindowIsOfferedOnlyPiecesInsideIt()
    {
        var seeder = NewSeeder(32, offers: 4);
        var peer = new SuperSeeder.Peer(new Bitfield(32));
        seeder.SetWindow(peer, 8, 11);
        seeder.AddPeer(peer);

        int[] offered = [.. Enumerable.Range(0, 4).Select(_ => seeder.NextOffer(peer, 0))];

        Assert.Equal([-1, 8, 9, 10], offered.Order());
    }

    [Fact]
    public void OffersOutsideAWindowToldLaterAreGivenBackAndTheWindowGetsTheirSlots()
    {
        var seeder = NewSeeder(32, offers: 4, random: new Random(5));
        var peer = new SuperSeeder.Peer(new Bitfield(32));
        seeder.AddPeer(peer);
        while (seeder.NextOffer(peer, 0) >= 0)
        {
        }

        int[] before = [.. peer.Offers];
        seeder.SetWindow(peer, 0, 2);

        Assert.All(peer.Offers, piece => Assert.InRange(piece, 0, 1));
        Assert.All(before.Where(piece => piece >= 2), piece => Assert.Equal(0, seeder.OfferedCount(piece)));
        while (OfferRequested(seeder, peer, 0) >= 0)
        {
        }

        foreach (int piece in peer.Offers)
        {
            seeder.PeerRequested(peer, piece, 0);
        }

        Assert.Equal([0, 1], peer.Offers.Order());
        Assert.Equal(2, seeder.FirstCopiesInFlight);
    }

    [Fact]
    public void StreamPeersThatTellTheirWindowsGetEveryPieceAndAreOfferedNothingOutsideThem() =>
        Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => StreamPeersThatTellTheirWindowsGetEveryPieceAndAreOfferedNothingOutsideThemFor(seed)).CheckSeeded(maxTest: 200);

    private static bool StreamPeersThatTellTheirWindowsGetEveryPieceAndAreOfferedNothingOutsideThemFor(int seed)
    {
        // Peers like our stream targets: each requests only pieces in [next, next + window), from the seed's offers or
        // from another peer, and tells the seed its window each time its decoder moves past a piece.
        var random = new Random(seed);
        int pieces = random.Next(1, 48);
        var seeder = new SuperSeeder(pieces, random.Next(1, 5), 12, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1), Second, random, adaptive: random.Next(2) == 0);
        var peers = Enumerable.Range(0, random.Next(1, 5)).Select(_ => new SuperSeeder.Peer(new Bitfield(pieces))).ToList();
        int[] window = [.. peers.Select(_ => random.Next(1, 6))];
        int[] next = new int[peers.Count];
        for (int i = 0; i < peers.Count; i++)
        {
            seeder.AddPeer(peers[i]);
            seeder.SetWindow(peers[i], 0, window[i]);
        }

        long now = 0;
        for (int step = 0; step < pieces * peers.Count * 16 && peers.Any(p => !p.Has.IsFull); step++)
        {
            int i = random.Next(peers.Count);
            SuperSeeder.Peer peer = peers[i];
            int end = Math.Min(pieces, next[i] + window[i]);
            while (seeder.NextOffer(peer, now) >= 0)
            {
            }

            if (peer.Offers.Any(piece => piece < next[i] || piece >= end))
            {
                return false;
            }

            // Offered pieces the seed announced (opened peers: every piece) and pieces other peers have, in the window.
            int[] fetchable = [.. Enumerable.Range(next[i], end - next[i]).Where(p => !peer.Has[p] && (peer.Open || peer.Offers.Contains(p) || peers.Any(q => q.Has[p])))];
            if (fetchable.Length > 0)
            {
                Announce(seeder, peer, fetchable[random.Next(fetchable.Length)], now);
                while (next[i] < pieces && peer.Has[next[i]])
                {
                    next[i]++;
                }

                seeder.SetWindow(peer, next[i], next[i] + window[i]);
            }

            if (seeder.ShouldOpen(peer, now))
            {
                seeder.Open(peer);
            }

            now += Second / 2;
        }

        return peers.All(p => p.Has.IsFull);
    }

    [Fact]
    public void AnOfferThatIsNotRequestedIsNoFirstCopyInFlightUntilItIs()
    {
        var seeder = NewSeeder(4, offers: 2);
        var peer = new SuperSeeder.Peer(new Bitfield(4));
        seeder.AddPeer(peer);
        int piece = seeder.NextOffer(peer, 0);

        Assert.Equal(1, seeder.OfferedCount(piece));
        Assert.Equal(0, seeder.FirstCopiesInFlight);

        seeder.PeerRequested(peer, piece, Second);
        seeder.PeerRequested(peer, piece, Second);
        Assert.Equal(1, seeder.FirstCopiesInFlight);
        Assert.Equal(1, seeder.RequestedCount(piece));
        Assert.Equal(1, seeder.OfferedCount(piece));
    }

    [Fact]
    public void AnOfferAnIdlePeerNeverRequestsIsOfferedToOthersAfterTheWaitAndTheIdlePeerGetsNoMore()
    {
        var seeder = NewSeeder(4, offers: 1, wait: TimeSpan.FromSeconds(3));
        var idle = new SuperSeeder.Peer(new Bitfield(4));
        var fetching = new SuperSeeder.Peer(new Bitfield(4));
        seeder.AddPeer(idle);
        seeder.AddPeer(fetching);
        int withheld = seeder.NextOffer(idle, 0);

        // Within the wait the idle peer's offer still counts: the fetching peer gets every other piece first.
        int[] first = [Fetch(seeder, fetching, 0), Fetch(seeder, fetching, 0), Fetch(seeder, fetching, 0)];
        Assert.DoesNotContain(withheld, first);
        var early = new SuperSeeder.Peer(new Bitfield(4));
        seeder.AddPeer(early);
        Assert.NotEqual(withheld, seeder.NextOffer(early, 2 * Second));

        // Past it, the offer no longer counts: the piece is the one nobody holds, so it goes first to a peer that asks.
        var late = new SuperSeeder.Peer(new Bitfield(4));
        seeder.AddPeer(late);
        Assert.Equal(withheld, seeder.NextOffer(late, 3 * Second));
        Assert.Equal(1, seeder.OfferedCount(withheld));
        Assert.Contains(withheld, idle.Offers);
        Assert.Equal(-1, seeder.NextOffer(idle, 3 * Second));
        Assert.Equal(0, seeder.FirstCopiesInFlight);
    }

    [Fact]
    public void AnOfferOfAPeerThatKeepsRequestingItsOtherOffersKeepsCounting()
    {
        var seeder = NewSeeder(8, offers: 2, wait: TimeSpan.FromSeconds(3));
        var slow = new SuperSeeder.Peer(new Bitfield(8));
        seeder.AddPeer(slow);
        int fetching = OfferRequested(seeder, slow, 0);
        int waiting = seeder.NextOffer(slow, 0);

        // Still requesting blocks of its first offer at 2 s: its second offer counts until 3 s after that.
        seeder.PeerRequested(slow, fetching, 2 * Second);
        seeder.NextOffer(slow, 4 * Second);
        Assert.Equal(1, seeder.OfferedCount(waiting));
        seeder.NextOffer(slow, 5 * Second);
        Assert.Equal(0, seeder.OfferedCount(waiting));

        // Requested late, it counts again, now as on its way.
        seeder.PeerRequested(slow, waiting, 6 * Second);
        Assert.Equal(1, seeder.OfferedCount(waiting));
        Assert.Equal(2, seeder.FirstCopiesInFlight);
    }

    [Fact]
    public void IdlePeersNeverHoldBackAPeerThatFetches()
    {
        var seeder = NewSeeder(16, offers: 1, held: 2);
        var fetching = new SuperSeeder.Peer(new Bitfield(16));
        for (int i = 0; i < 8; i++)
        {
            var idle = new SuperSeeder.Peer(new Bitfield(16));
            seeder.AddPeer(idle);
            seeder.NextOffer(idle, 0);
        }

        seeder.AddPeer(fetching);

        // Nobody else requests from the seed, so nothing the fetching peer holds can be passed on: it is alone.
        for (int i = 0; i < 16; i++)
        {
            Assert.NotEqual(-1, Fetch(seeder, fetching, i * Second / 2));
        }

        Assert.True(fetching.Has.IsFull);
        Assert.Equal(0, seeder.FirstCopiesInFlight);
    }

    [Fact]
    public void PeersThatFetchGetEveryPieceWhateverIdlePeersWereOffered() =>
        Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => PeersThatFetchGetEveryPieceWhateverIdlePeersWereOfferedFor(seed)).CheckSeeded(maxTest: 200);

    private static bool PeersThatFetchGetEveryPieceWhateverIdlePeersWereOfferedFor(int seed)
    {
        // Idle peers are offered pieces and never ask; fetching peers request each offer, announce it later, and pass
        // pieces on among themselves. Idle peers' offers never count as first copies in flight, and the fetching peers
        // end with every piece.
        var random = new Random(seed);
        int pieces = random.Next(1, 40);
        var seeder = NewSeeder(pieces, offers: random.Next(1, 4), random: random, adaptive: random.Next(2) == 0);
        var idle = Enumerable.Range(0, random.Next(1, 8)).Select(_ => new SuperSeeder.Peer(new Bitfield(pieces))).ToList();
        var fetching = Enumerable.Range(0, random.Next(1, 4)).Select(_ => new SuperSeeder.Peer(new Bitfield(pieces))).ToList();
        foreach (SuperSeeder.Peer peer in idle.Concat(fetching).OrderBy(_ => random.Next()))
        {
            seeder.AddPeer(peer);
        }

        long now = 0;
        for (int step = 0; step < pieces * fetching.Count * 40 && fetching.Any(p => !p.Has.IsFull); step++)
        {
            SuperSeeder.Peer peer = random.Next(3) == 0 ? idle[random.Next(idle.Count)] : fetching[random.Next(fetching.Count)];
            bool fetches = fetching.Contains(peer);
            if (seeder.ShouldOpen(peer, now))
            {
                seeder.Open(peer);
            }

            for (int piece; (piece = seeder.NextOffer(peer, now)) >= 0;)
            {
                if (fetches)
                {
                    seeder.PeerRequested(peer, piece, now);
                }
            }

            if (fetches)
            {
                // A piece the seed offered or opened to it, or one another fetching peer holds.
                int[] fetchable = [.. Enumerable.Range(0, pieces).Where(p => !peer.Has[p] && (peer.Open || peer.Requested.Contains(p) || fetching.Any(q => q.Has[p])))];
                if (fetchable.Length > 0)
                {
                    Announce(seeder, peer, fetchable[random.Next(fetchable.Length)], now);
                }
            }

            int inFlight = Enumerable.Range(0, pieces).Count(p => fetching.Any(q => q.Requested.Contains(p)) && !fetching.Any(q => q.Has[p]));
            if (seeder.FirstCopiesInFlight != inFlight)
            {
                return false;
            }

            now += Second / 4;
        }

        return fetching.All(p => p.Has.IsFull);
    }

    private static SuperSeeder NewSeeder(int pieces, int offers, int? held = null, TimeSpan? wait = null, TimeSpan? hold = null, Random? random = null, bool adaptive = false) =>
        new(pieces, offers, held ?? offers * 3, wait ?? TimeSpan.FromSeconds(3), hold ?? TimeSpan.FromSeconds(1), Second, random ?? new Random(7), adaptive: adaptive);

    // Offers the peer a piece, which it requests at once.
    private static int OfferRequested(SuperSeeder seeder, SuperSeeder.Peer peer, long now)
    {
        int piece = seeder.NextOffer(peer, now);
        if (piece >= 0)
        {
            seeder.PeerRequested(peer, piece, now);
        }

        return piece;
    }

    // The peer announces a piece it fetched.
    private static bool Announce(SuperSeeder seeder, SuperSeeder.Peer peer, int piece, long now)
    {
        peer.Has.Set(piece);
        return seeder.PeerHave(peer, piece, now);
    }

    // Offers the peer a piece and has it announce it, as if it downloaded the piece from us.
    private static int Fetch(SuperSeeder seeder, SuperSeeder.Peer peer, long now)
    {
        int piece = seeder.NextOffer(peer, now);
        if (piece >= 0)
        {
            seeder.PeerRequested(peer, piece, now);
            peer.Has.Set(piece);
            seeder.PeerHave(peer, piece, now);
        }

        return piece;
    }
}
