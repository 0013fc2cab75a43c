using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace BlockTorrent.Bencode;

/// <summary>
/// Writes bencode to an <see cref="IBufferWriter{T}"/>. The caller writes dictionary keys in ascending raw byte
/// order (as BEP 3 requires); <see cref="BencodeValue"/> does that for a dictionary it holds. A struct, so the
/// wire path's extension messages are written without allocating.
/// </summary>
internal readonly struct BencodeWriter
{
    private readonly IBufferWriter<byte> _output;

    /// <summary>Initializes a new writer.</summary>
    /// <param name="output">Receives the bytes.</param>
    public BencodeWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    /// <summary>Writes an integer: <c>i42e</c>.</summary>
    /// <param name="value">The value.</param>
    public void WriteInteger(long value)
    {
        Span<byte> span = _output.GetSpan(22);
        span[0] = (byte)'i';
        Utf8Formatter.TryFormat(value, span[1..], out int written);
        span[1 + written] = (byte)'e';
        _output.Advance(written + 2);
    }

    /// <summary>Writes a byte string: <c>4:spam</c>.</summary>
    /// <param name="value">The bytes.</param>
    public void WriteString(ReadOnlySpan<byte> value)
    {
        WriteLength(value.Length);
        _output.Write(value);
    }

    /// <summary>Writes text as a UTF-8 byte string.</summary>
    /// <param name="value">The text.</param>
    public void WriteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int length = Encoding.UTF8.GetByteCount(value);
        WriteLength(length);
        Span<byte> span = _output.GetSpan(length);
        Encoding.UTF8.GetBytes(value, span);
        _output.Advance(length);
    }

    /// <summary>Writes the start of a list: <c>l</c>.</summary>
    public void WriteStartList() => WriteByte((byte)'l');

    /// <summary>Writes the start of a dictionary: <c>d</c>.</summary>
    public void WriteStartDictionary() => WriteByte((byte)'d');

    /// <summary>Writes the end of the innermost list or dictionary: <c>e</c>.</summary>
    public void WriteEnd() => WriteByte((byte)'e');

    /// <summary>Writes bytes that already are one bencoded value (an info dictionary kept verbatim).</summary>
    /// <param name="encoded">The encoded value.</param>
    public void WriteRaw(ReadOnlySpan<byte> encoded) => _output.Write(encoded);

    private void WriteLength(int length)
    {
        Span<byte> span = _output.GetSpan(11);
        Utf8Formatter.TryFormat(length, span, out int written);
        span[written] = (byte)':';
        _output.Advance(written + 1);
    }

    private void WriteByte(byte value)
    {
        _output.GetSpan(1)[0] = value;
        _output.Advance(1);
    }
}
