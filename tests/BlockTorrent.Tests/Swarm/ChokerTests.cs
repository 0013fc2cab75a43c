using BlockTorrent.Swarm;

namespace BlockTorrent.Tests.Swarm;

public sealed class ChokerTests
{
    [Fact]
    public void UnchokeAllUnchokesEveryInterestedPeerAndNoOther()
    {
        var peers = Peers(6);
        peers[2].IsInterested = false;
        new Choker(ChokingPolicy.UnchokeAll, 0, 30).Decide(peers, seeding: false, now: 0);
        Assert.Equal([true, true, false, true, true, true], peers.Select(p => p.Unchoked));
    }

    [Fact]
    public void UnchokeAllWithALimitKeepsTheFastestPeers()
    {
        var peers = Peers(5);
        new Choker(ChokingPolicy.UnchokeAll, 2, 30).Decide(peers, seeding: false, now: 0);
        Assert.Equal([false, false, false, true, true], peers.Select(p => p.Unchoked));
    }

    [Fact]
    public void TitForTatKeepsTheBestReciprocatorsAndOneOptimisticPeer()
    {
        var peers = Peers(10);
        var choker = new Choker(ChokingPolicy.TitForTat, 4, 30, new Random(1));
        choker.Decide(peers, seeding: false, now: 0);
        Assert.Equal(4, peers.Count(p => p.Unchoked));
        Assert.True(peers[9].Unchoked && peers[8].Unchoked && peers[7].Unchoked);
        Peer optimistic = peers.Take(7).Single(p => p.Unchoked);

        // Within the interval the optimistic peer stays; after it, the choice is drawn again among the others.
        choker.Decide(peers, seeding: false, now: 10);
        Assert.True(optimistic.Unchoked);
        Assert.Equal(4, peers.Count(p => p.Unchoked));
    }

    [Fact]
    public void WhenSeedingTitForTatRanksByUpload()
    {
        var peers = Peers(3);
        peers[0].UploadRate = 1000;
        new Choker(ChokingPolicy.TitForTat, 2, 30, new Random(1)).Decide(peers, seeding: true, now: 0);
        Assert.True(peers[0].Unchoked);
        Assert.Equal(2, peers.Count(p => p.Unchoked));
    }

    private static List<Peer> Peers(int n) =>
        Enumerable.Range(0, n).Select(i => new Peer { IsInterested = true, DownloadRate = i * 100 }).ToList();

    private sealed class Peer : IChokeable
    {
        public bool IsInterested { get; set; }

        public double DownloadRate { get; set; }

        public double UploadRate { get; set; }

        public bool Unchoked { get; set; }
    }
}
