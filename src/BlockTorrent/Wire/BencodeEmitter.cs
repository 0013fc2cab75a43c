using System.Buffers;
using System.Buffers.Text;

namespace BlockTorrent.Wire;

/// <summary>
/// Writes the small bencoded dictionaries of extension messages into an <see cref="IBufferWriter{T}"/> without
/// allocating. The caller writes keys in ascending byte order, as bencode requires.
/// </summary>
internal readonly struct BencodeEmitter
{
    private readonly IBufferWriter<byte> _output;

    /// <summary>Initializes a new emitter.</summary>
    /// <param name="output">Receives the bytes.</param>
    public BencodeEmitter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    /// <summary>Writes <c>d</c>.</summary>
    public void StartDictionary() => WriteByte((byte)'d');

    /// <summary>Writes <c>e</c>.</summary>
    public void End() => WriteByte((byte)'e');

    /// <summary>Writes a key and an integer value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    public void Integer(ReadOnlySpan<byte> key, long value)
    {
        String(key);
        Span<byte> span = _output.GetSpan(22);
        span[0] = (byte)'i';
        Utf8Formatter.TryFormat(value, span[1..], out int written);
        span[1 + written] = (byte)'e';
        _output.Advance(written + 2);
    }

    /// <summary>Writes a key and a byte string value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    public void String(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        String(key);
        String(value);
    }

    /// <summary>Writes a byte string (a key, or a value after <see cref="String(ReadOnlySpan{byte})"/> wrote its key).</summary>
    /// <param name="value">The bytes.</param>
    public void String(ReadOnlySpan<byte> value)
    {
        Span<byte> span = _output.GetSpan(11);
        Utf8Formatter.TryFormat(value.Length, span, out int written);
        span[written] = (byte)':';
        _output.Advance(written + 1);
        _output.Write(value);
    }

    private void WriteByte(byte value)
    {
        _output.GetSpan(1)[0] = value;
        _output.Advance(1);
    }
}
