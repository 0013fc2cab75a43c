using BlockTorrent.Swarm;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Swarm;

public sealed class DuplicateConnectionTests
{
    [Fact]
    public void TwoPeersThatDialEachOtherAtOnceKeepTheSameConnectionWhicheverArrivesFirst() => Prop.ForAll(ArbMap.Default.ArbFor<Tuple<byte[], byte[], bool, bool>>(), t => TwoPeersThatDialEachOtherAtOnceKeepTheSameConnectionWhicheverArrivesFirstFor(t.Item1, t.Item2, t.Item3, t.Item4)).CheckSeeded(maxTest: 300);

    private bool TwoPeersThatDialEachOtherAtOnceKeepTheSameConnectionWhicheverArrivesFirstFor(byte[] a, byte[] b, bool aSeesItsOwnFirst, bool bSeesItsOwnFirst)
    {
        byte[] idA = PeerId(a, 1);
        byte[] idB = PeerId(b, 2);
        if (idA.AsSpan().SequenceEqual(idB))
        {
            return true;
        }

        // Each end registers both connections in some order; "A" is the connection A dialled, "B" the one B dialled.
        char keptAtA = Kept(idA, idB, ownFirst: aSeesItsOwnFirst, own: 'A', other: 'B');
        char keptAtB = Kept(idB, idA, ownFirst: bSeesItsOwnFirst, own: 'B', other: 'A');
        char dialledByLower = idA.AsSpan().SequenceCompareTo(idB) < 0 ? 'A' : 'B';
        return keptAtA == keptAtB && keptAtA == dialledByLower;
    }

    [Fact]
    public void ASecondConnectionInTheSameDirectionNeverReplacesTheFirst() => Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), ArbMap.Default.ArbFor<byte[]>(), ArbMap.Default.ArbFor<bool>(), (a, b, outgoing) => ASecondConnectionInTheSameDirectionNeverReplacesTheFirstFor(a, b, outgoing)).CheckSeeded(maxTest: 100);

    private bool ASecondConnectionInTheSameDirectionNeverReplacesTheFirstFor(byte[] a, byte[] b, bool outgoing)
    {
        return !TorrentSwarm.ReplacesDuplicate(PeerId(a, 1), PeerId(b, 2), existingOutgoing: outgoing, newOutgoing: outgoing);
    }

    private static char Kept(byte[] ours, byte[] theirs, bool ownFirst, char own, char other)
    {
        char first = ownFirst ? own : other;
        char second = ownFirst ? other : own;
        return TorrentSwarm.ReplacesDuplicate(ours, theirs, existingOutgoing: first == own, newOutgoing: second == own) ? second : first;
    }

    private static byte[] PeerId(byte[]? bytes, byte fill)
    {
        byte[] id = new byte[20];
        id.AsSpan().Fill(fill);
        bytes?.AsSpan(0, Math.Min(20, bytes.Length)).CopyTo(id);
        return id;
    }
}
