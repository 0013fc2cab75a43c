using System.Buffers;
using BlockTorrent.Bencode;

namespace BlockTorrent.Wire;

/// <summary>
/// BlockTorrent's <c>bt_stream_window</c> extension message (BEP 10): a stream-format target tells a peer which pieces
/// its decoder lets it request now, <c>[start, end)</c>, as the bencoded dictionary <c>d3:endi…e5:starti…ee</c>. A
/// super-seed offers it only pieces inside that window; other clients never see it, since it is sent only to peers
/// that name it in their extended handshake.
/// </summary>
/// <param name="Start">The first piece the peer may request: the next one its decoder needs.</param>
/// <param name="End">The first piece past the window.</param>
internal readonly record struct StreamWindowMessage(int Start, int End)
{
    /// <summary>The extension message's name in the extended handshake's <c>m</c> dictionary.</summary>
    public const string Name = "bt_stream_window";

    /// <summary>Parses a payload (after the extension id byte).</summary>
    /// <param name="payload">The bencoded dictionary.</param>
    /// <param name="message">The window.</param>
    /// <returns>
    /// <see langword="false"/> unless the payload is a dictionary with integer <c>start</c> and <c>end</c>,
    /// 0 ≤ start &lt; end ≤ <see cref="int.MaxValue"/>.
    /// </returns>
    public static bool TryParse(ReadOnlySpan<byte> payload, out StreamWindowMessage message)
    {
        message = default;
        var reader = new BencodeReader(payload, BencodeReaderOptions.Lenient);
        if (!reader.TryReadStartDictionary())
        {
            return false;
        }

        long start = -1, end = -1;
        while (reader.TryReadEntry(out ReadOnlySpan<byte> key))
        {
            if (reader.TokenType == BencodeTokenType.Integer && key.SequenceEqual("start"u8))
            {
                start = reader.IntegerValue;
            }
            else if (reader.TokenType == BencodeTokenType.Integer && key.SequenceEqual("end"u8))
            {
                end = reader.IntegerValue;
            }
            else if (!reader.TrySkip())
            {
                return false;
            }
        }

        if (reader.HasError || start < 0 || end <= start || end > int.MaxValue)
        {
            return false;
        }

        message = new StreamWindowMessage((int)start, (int)end);
        return true;
    }

    /// <summary>Writes the bencoded dictionary.</summary>
    /// <param name="output">Where to write it.</param>
    public void WriteTo(IBufferWriter<byte> output)
    {
        var e = new BencodeWriter(output);
        e.WriteStartDictionary();
        e.WriteString("end"u8);
        e.WriteInteger(End);
        e.WriteString("start"u8);
        e.WriteInteger(Start);
        e.WriteEnd();
    }
}
