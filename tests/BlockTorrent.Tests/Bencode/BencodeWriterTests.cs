using System.Buffers;
using System.Text;
using BlockTorrent.Bencode;

namespace BlockTorrent.Tests.Bencode;

public sealed class BencodeWriterTests
{
    [Fact]
    public void WriterProducesTheCanonicalForms()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new BencodeWriter(buffer);

        writer.WriteStartDictionary();
        writer.WriteString("a");
        writer.WriteInteger(long.MinValue);
        writer.WriteString("b");
        writer.WriteStartList();
        writer.WriteInteger(0);
        writer.WriteString("é");
        writer.WriteString(ReadOnlySpan<byte>.Empty);
        writer.WriteEnd();
        writer.WriteEnd();

        Assert.Equal("d1:ai-9223372036854775808e1:bli0e2:\u00c3\u00a90:ee", Encoding.Latin1.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void DictionaryValuesWriteKeysInRawByteOrder()
    {
        var value = BencodeValue.FromDictionary(
        [
            KeyValuePair.Create("b"u8.ToArray(), BencodeValue.FromInteger(1)),
            KeyValuePair.Create("B"u8.ToArray(), BencodeValue.FromInteger(2)),
            KeyValuePair.Create("ab"u8.ToArray(), BencodeValue.FromInteger(3)),
            KeyValuePair.Create("a"u8.ToArray(), BencodeValue.FromInteger(4)),
        ]);

        Assert.Equal("d1:Bi2e1:ai4e2:abi3e1:bi1ee", Encoding.ASCII.GetString(value.Encode()));
    }
}
