using BlockTorrent.Bencode;
using BlockTorrent.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Bencode;

public sealed class BencodePropertyTests
{
    private static Gen<BencodeValue> ValueGen(int size)
    {
        var integer = ArbMap.Default.GeneratorFor<long>().Select(BencodeValue.FromInteger);
        var bytes = ArbMap.Default.GeneratorFor<byte[]>().Select(b => BencodeValue.FromBytes(b ?? []));
        if (size <= 0)
        {
            return Gen.OneOf(integer, bytes);
        }

        var child = ValueGen(size / 3);
        var list = Gen.ListOf(child).Select(items => BencodeValue.FromList(items));
        var dictionary = Gen.ListOf(Gen.Zip(ArbMap.Default.GeneratorFor<byte[]>(), child))
            .Select(entries => BencodeValue.FromDictionary(entries.Select(e => KeyValuePair.Create(e.Item1 ?? [], e.Item2))));
        return Gen.OneOf(integer, bytes, list, dictionary);
    }

    private static Arbitrary<BencodeValue> Values => Gen.Sized(ValueGen).ToArbitrary();

    [Fact]
    public void AnyValueRoundTrips() => Prop.ForAll(Values, value =>
    {
        byte[] encoded = value.Encode();
        BencodeValue decoded = BencodeValue.Parse(encoded);
        return decoded.Equals(value) && decoded.Encode().AsSpan().SequenceEqual(encoded);
    }).CheckSeeded(maxTest: 300);

    [Fact]
    public void AnyMutationIsRejectedOrDecodesToItsOwnCanonicalEncoding() => Prop.ForAll(
        Values,
        ArbMap.Default.ArbFor<Tuple<int, byte, int>>(),
        (value, mutation) => RejectedOrCanonical(ByteMutation.Apply(value.Encode(), mutation))).CheckSeeded(maxTest: 500);

    [Fact]
    public void AnyTruncationIsRejected() => Prop.ForAll(Values, ArbMap.Default.ArbFor<int>(), (value, cut) =>
    {
        byte[] encoded = value.Encode();
        int length = Math.Abs(cut % encoded.Length);
        try
        {
            BencodeValue.Parse(encoded.AsSpan(0, length));
            return false;
        }
        catch (BencodeException)
        {
            return true;
        }
    }).CheckSeeded(maxTest: 300);

    [Fact]
    public void ArbitraryBytesAreRejectedOrCanonical() => Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes => RejectedOrCanonical(bytes ?? [])).CheckSeeded(maxTest: 1000);

    private static bool RejectedOrCanonical(byte[] input)
    {
        try
        {
            return BencodeValue.Parse(input).Encode().AsSpan().SequenceEqual(input);
        }
        catch (BencodeException)
        {
            return true;
        }
    }
}
