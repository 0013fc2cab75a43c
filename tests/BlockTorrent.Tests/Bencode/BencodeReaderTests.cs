using System.Text;
using BlockTorrent.Bencode;

namespace BlockTorrent.Tests.Bencode;

public sealed class BencodeReaderTests
{
    [Theory]
    [InlineData("i0e")]
    [InlineData("i-1e")]
    [InlineData("i9223372036854775807e")]
    [InlineData("i-9223372036854775808e")]
    [InlineData("0:")]
    [InlineData("4:spam")]
    [InlineData("le")]
    [InlineData("de")]
    [InlineData("d1:ai1e1:bli2e3:xyzee")]
    [InlineData("d0:i1e1:ai2ee")]
    [InlineData("d1:a0:2:aai0ee")]
    public void CanonicalInputRoundTripsByteForByte(string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);

        byte[] again = BencodeValue.Parse(bytes).Encode();

        Assert.Equal(text, Encoding.ASCII.GetString(again));
    }

    [Theory]
    [InlineData("", 0, "empty")]
    [InlineData("i01e", 0, "leading zero")]
    [InlineData("i-0e", 0, "'-0'")]
    [InlineData("ie", 0, "no digits")]
    [InlineData("i-e", 0, "no digits")]
    [InlineData("i12", 3, "ends inside an integer")]
    [InlineData("i1x", 2, "must end with 'e'")]
    [InlineData("i9223372036854775808e", 0, "64 bits")]
    [InlineData("i-9223372036854775809e", 0, "64 bits")]
    [InlineData("i12345678901234567890e", 0, "more than 19 digits")]
    [InlineData("01:a", 0, "leading zero")]
    [InlineData("-1:a", 0, "negative")]
    [InlineData("5:abc", 0, "only 3 remain")]
    [InlineData("3", 1, "ends inside a string length")]
    [InlineData("3x", 1, "followed by ':'")]
    [InlineData("99999999999:a", 0, "more than 10 digits")]
    [InlineData("i1ei2e", 3, "trailing data")]
    [InlineData("4:spamx", 6, "trailing data")]
    [InlineData("l", 1, "ends in the middle")]
    [InlineData("li1e", 4, "ends in the middle")]
    [InlineData("e", 0, "without an open")]
    [InlineData("d1:bi1e1:ai2ee", 7, "ascending")]
    [InlineData("d1:ai1e1:ai2ee", 7, "repeated")]
    [InlineData("di1ei2ee", 1, "must be a byte string")]
    [InlineData("d1:ae", 4, "no value")]
    [InlineData("x", 0, "expected a value")]
    public void NonCanonicalOrMalformedInputIsRejectedNamingTheOffset(string text, int offset, string reason)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);

        var e = Assert.Throws<BencodeException>(() => BencodeValue.Parse(bytes));

        Assert.Equal(offset, e.Offset);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Contains($"offset {offset}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NestingDeeperThanTheLimitIsRejected()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(new string('l', 10) + new string('e', 10));

        var e = Assert.Throws<BencodeException>(() => BencodeValue.Parse(bytes, new BencodeReaderOptions { MaxDepth = 9 }));

        Assert.Equal(9, e.Offset);
        Assert.Contains("nesting", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NestingBeyondTheInlineFramesWorksUpToTheLimit()
    {
        string text = "d1:a" + string.Concat(Enumerable.Repeat("d1:a", 40)) + "i1e" + new string('e', 41);

        var value = BencodeValue.Parse(Encoding.ASCII.GetBytes(text));

        Assert.Equal(text, Encoding.ASCII.GetString(value.Encode()));
    }

    [Fact]
    public void KeyOrderIsCheckedAfterDeepNesting()
    {
        string text = "d1:b" + string.Concat(Enumerable.Repeat("l", 20)) + new string('e', 20) + "1:ai1ee";

        var e = Assert.Throws<BencodeException>(() => BencodeValue.Parse(Encoding.ASCII.GetBytes(text)));

        Assert.Contains("ascending", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InputLargerThanTheSizeLimitIsRejected()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("10:abcdefghij");

        var e = Assert.Throws<BencodeException>(() => BencodeValue.Parse(bytes, new BencodeReaderOptions { MaxSize = 12 }));

        Assert.Contains("limit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StringLongerThanTheStringLimitIsRejected()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("10:abcdefghij");

        var e = Assert.Throws<BencodeException>(() => BencodeValue.Parse(bytes, new BencodeReaderOptions { MaxStringLength = 9 }));

        Assert.Equal(0, e.Offset);
    }

    [Fact]
    public void SkipPassesOverAWholeContainer()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("d1:ald1:xi1eee1:bi7ee");
        var reader = new BencodeReader(bytes);
        reader.Read();
        reader.Read();
        reader.Skip();
        reader.Read();

        Assert.True(reader.IsKey);
        Assert.Equal("b", Encoding.ASCII.GetString(reader.ValueSpan));
        reader.Read();
        Assert.Equal(7, reader.IntegerValue);
    }

    [Theory]
    [InlineData("d1:bi1e1:ai2ee")]
    [InlineData("d1:ai1e1:ai2ee")]
    [InlineData("d1:ai01e2:bb04:abcde")]
    [InlineData("d1:ai-0e1:bi1ee")]
    public void LenientReadingAcceptsWhatPeersSendThatIsNotCanonical(string text)
    {
        var reader = new BencodeReader(Encoding.ASCII.GetBytes(text), BencodeReaderOptions.Lenient);

        int tokens = 0;
        while (reader.TryRead())
        {
            tokens++;
        }

        Assert.False(reader.HasError);
        Assert.Equal(BencodeTokenType.EndDictionary, reader.TokenType);
        Assert.True(tokens >= 2);
    }

    [Fact]
    public void LenientReadingStopsAfterTheValueWithTheRestLeftForTheCaller()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("d1:ai1eeRAW");
        var reader = new BencodeReader(bytes, BencodeReaderOptions.Lenient);

        while (reader.TryRead())
        {
        }

        Assert.False(reader.HasError);
        Assert.Equal("RAW", Encoding.ASCII.GetString(bytes.AsSpan(reader.BytesConsumed)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("d1:a")]
    [InlineData("d1:ai1x")]
    [InlineData("di1ei2ee")]
    [InlineData("d1:a5:abce")]
    [InlineData("d1:ad1:bd1:cd1:dd1:ed1:fd1:gd1:hd1:id1:jd1:kd1:ld1:md1:nd1:od1:pd1:qi1eeeeeeeeeeeeeeeeee")]
    public void TryReadReportsMalformedInputWithoutThrowingAndKeepsFailing(string text)
    {
        var reader = new BencodeReader(Encoding.ASCII.GetBytes(text), BencodeReaderOptions.Lenient);

        while (reader.TryRead())
        {
        }

        Assert.True(reader.HasError);
        Assert.False(reader.TryRead());
        Assert.False(reader.TrySkip());
    }

    [Fact]
    public void TryReadEntryGivesEachKeyWithItsValueAndSkipsWhatIsNotRead()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("d1:xld1:yi1eee1:ai7e1:b2:hie");
        var reader = new BencodeReader(bytes, BencodeReaderOptions.Lenient);
        Assert.True(reader.TryReadStartDictionary());
        var seen = new List<string>();

        while (reader.TryReadEntry(out ReadOnlySpan<byte> key))
        {
            seen.Add($"{Encoding.ASCII.GetString(key)}={reader.TokenType}");
            Assert.True(reader.TrySkip());
        }

        Assert.False(reader.HasError);
        Assert.Equal(["x=StartList", "a=Integer", "b=String"], seen);
    }

    [Fact]
    public void StrictReadingThrowsTheErrorTryReadRecords()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("d1:bi1e1:ai2ee");
        var tolerant = new BencodeReader(bytes);
        while (tolerant.TryRead())
        {
        }

        var e = Assert.Throws<BencodeException>(() =>
        {
            var reader = new BencodeReader(bytes);
            while (reader.Read())
            {
            }
        });

        Assert.True(tolerant.HasError);
        Assert.Equal(7, e.Offset);
    }

    [Fact]
    public void WalkingAValueAllocatesNothing()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("d1:ald1:xi1eee1:bi7e1:c5:helloe");
        Walk(bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();

        int tokens = Walk(bytes);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(13, tokens);
    }

    private static int Walk(byte[] bytes)
    {
        var reader = new BencodeReader(bytes);
        int tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }

        return tokens;
    }
}
