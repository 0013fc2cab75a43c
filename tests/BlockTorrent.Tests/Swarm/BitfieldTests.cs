using BlockTorrent.Swarm;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Swarm;

public sealed class BitfieldTests
{
    [Fact]
    public void TheWireFormRoundTripsEveryBit() => Prop.ForAll(ArbMap.Default.ArbFor<bool[]>(), bits => TheWireFormRoundTripsEveryBitFor(bits)).CheckSeeded();

    private bool TheWireFormRoundTripsEveryBitFor(bool[] bits)
    {
        var field = FromBools(bits);
        Assert.True(Bitfield.TryReadWire(field.ToWire(), bits.Length, out Bitfield? back));
        return Enumerable.Range(0, bits.Length).All(i => back![i] == bits[i]) && back!.Count == bits.Count(b => b);
    }

    [Fact]
    public void PieceZeroTravelsInTheHighBitOfTheFirstByte()
    {
        var field = new Bitfield(10);
        field.Set(0);
        field.Set(9);
        Assert.Equal(new byte[] { 0x80, 0x40 }, field.ToWire());
    }

    [Fact]
    public void ABitfieldWithSpareBitsSetIsRejected()
    {
        Assert.False(Bitfield.TryReadWire([0xFF, 0xC1], 10, out _));
    }

    [Fact]
    public void ABitfieldOfTheWrongLengthIsRejected()
    {
        Assert.False(Bitfield.TryReadWire([0xFF, 0xC0, 0x00], 10, out _));
    }

    [Fact]
    public void SetOperationsAgreeWithAModel() => Prop.ForAll(ArbMap.Default.ArbFor<bool[]>(), ArbMap.Default.ArbFor<bool[]>(), (a, b) => SetOperationsAgreeWithAModelFor(a, b)).CheckSeeded();

    private bool SetOperationsAgreeWithAModelFor(bool[] a, bool[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        a = a[..n];
        b = b[..n];
        var fa = FromBools(a);
        var fb = FromBools(b);
        var and = new Bitfield(fa);
        and.And(fb);
        var or = new Bitfield(fa);
        or.Or(fb);
        var andNot = new Bitfield(fa);
        andNot.AndNot(fb);
        return Matches(and, Enumerable.Range(0, n).Select(i => a[i] && b[i]))
            && Matches(or, Enumerable.Range(0, n).Select(i => a[i] || b[i]))
            && Matches(andNot, Enumerable.Range(0, n).Select(i => a[i] && !b[i]))
            && fa.Intersects(fb) == Enumerable.Range(0, n).Any(i => a[i] && b[i])
            && fa.HasAnyNotIn(fb) == Enumerable.Range(0, n).Any(i => a[i] && !b[i]);
    }

    [Fact]
    public void NextSetVisitsExactlyTheSetBitsInOrder() => Prop.ForAll(ArbMap.Default.ArbFor<bool[]>(), bits => NextSetVisitsExactlyTheSetBitsInOrderFor(bits)).CheckSeeded();

    private bool NextSetVisitsExactlyTheSetBitsInOrderFor(bool[] bits)
    {
        var field = FromBools(bits);
        return field.SetIndices().SequenceEqual(Enumerable.Range(0, bits.Length).Where(i => bits[i]));
    }

    [Fact]
    public void SetAllLeavesTheSpareBitsClear()
    {
        var field = new Bitfield(70);
        field.SetAll();
        Assert.Equal(70, field.Count);
        Assert.True(field.IsFull);
        Assert.Equal(0xFC, field.ToWire()[^1]);
    }

    internal static Bitfield FromBools(IReadOnlyList<bool> bits)
    {
        var field = new Bitfield(bits.Count);
        for (int i = 0; i < bits.Count; i++)
        {
            field[i] = bits[i];
        }

        return field;
    }

    private static bool Matches(Bitfield field, IEnumerable<bool> expected)
    {
        bool[] e = expected.ToArray();
        return field.Count == e.Count(x => x) && Enumerable.Range(0, e.Length).All(i => field[i] == e[i]);
    }
}
