using BlockTorrent.Swarm;
using FsCheck.Xunit;

namespace BlockTorrent.Tests.Swarm;

public sealed class SuperSeederTests
{
    [Property(MaxTest = 200)]
    public bool EmptyPeersAreOfferedDistinctPiecesWhileThereAreEnough(int seed)
    {
        var random = new Random(seed);
        int pieces = random.Next(1, 100);
        int peers = random.Next(1, pieces + 1);
        var seeder = new SuperSeeder(pieces, random);
        var offered = new HashSet<int>();
        for (int p = 0; p < peers; p++)
        {
            var has = new Bitfield(pieces);
            seeder.AddPeer(has);
            offered.Add(seeder.NextOffer(has, new HashSet<int>()));
        }

        return offered.Count == peers && !offered.Contains(-1);
    }

    [Fact]
    public void APieceThePeerHasIsNeverOfferedToIt()
    {
        var seeder = new SuperSeeder(3);
        var has = new Bitfield(3);
        has.Set(0);
        has.Set(2);
        seeder.AddPeer(has);
        Assert.Equal(1, seeder.NextOffer(has, new HashSet<int>()));
        Assert.Equal(-1, seeder.NextOffer(has, new HashSet<int> { 1 }));
    }

    [Fact]
    public void AnAnnouncedOfferFreesThePieceForOthersLast()
    {
        var seeder = new SuperSeeder(2, new Random(3));
        var a = new Bitfield(2);
        int first = seeder.NextOffer(a, new HashSet<int>());
        a.Set(first);
        seeder.PeerHave(first, wasOffered: true);
        Assert.Equal(0, seeder.OfferedCount(first));

        // The other piece has been seen by nobody: a new peer gets it first.
        Assert.Equal(1 - first, seeder.NextOffer(new Bitfield(2), new HashSet<int>()));
    }
}
