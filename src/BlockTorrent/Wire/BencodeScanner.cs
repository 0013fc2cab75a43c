using System.Buffers.Text;

namespace BlockTorrent.Wire;

/// <summary>
/// A lenient, non-throwing, allocation-free reader for the small bencoded dictionaries of extension messages
/// (BEP 10, 9, 11). Peers are not all canonical (keys out of order, unknown value types), so unlike the strict
/// .torrent reader this one accepts any well-formed bencode and reports malformed input as <see cref="Failed"/>
/// instead of throwing: a hostile peer costs a closed connection, not an exception per message.
/// </summary>
/// <remarks>
/// Read a dictionary with <see cref="TryEnterDictionary"/>, then <see cref="TryReadKey"/> until it returns
/// <see langword="false"/> (at the closing <c>e</c>, or on malformed input: check <see cref="Failed"/>), reading
/// or skipping each value.
/// </remarks>
internal ref struct BencodeScanner
{
    // Extension dictionaries are flat or two levels deep; anything deeper is hostile.
    private const int MaxDepth = 16;

    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    /// <summary>Initializes a new scanner at the start of <paramref name="data"/>.</summary>
    /// <param name="data">The bencoded bytes (possibly followed by other data).</param>
    public BencodeScanner(ReadOnlySpan<byte> data)
    {
        _data = data;
    }

    /// <summary>Gets the offset of the next unread byte: after a whole value, where the data that follows it starts.</summary>
    public readonly int Position => _position;

    /// <summary>Gets a value indicating whether malformed input was met; every later call then fails.</summary>
    public bool Failed { get; private set; }

    /// <summary>Consumes a <c>d</c>.</summary>
    /// <returns><see langword="false"/> (and <see cref="Failed"/>) when the next value is not a dictionary.</returns>
    public bool TryEnterDictionary()
    {
        if (Failed || Peek() != 'd')
        {
            return Fail();
        }

        _position++;
        return true;
    }

    /// <summary>Reads the next key of the current dictionary, or consumes its closing <c>e</c>.</summary>
    /// <param name="key">The key's bytes.</param>
    /// <returns><see langword="true"/> on a key; <see langword="false"/> at the end of the dictionary or on malformed input.</returns>
    public bool TryReadKey(out ReadOnlySpan<byte> key)
    {
        key = default;
        if (Failed)
        {
            return false;
        }

        if (Peek() == 'e')
        {
            _position++;
            return false;
        }

        return TryReadString(out key) || Fail();
    }

    /// <summary>Reads an integer if the next value is one.</summary>
    /// <param name="value">The value.</param>
    /// <returns><see langword="false"/> when the next value is of another type (nothing is consumed) or malformed (<see cref="Failed"/>).</returns>
    public bool TryReadInteger(out long value)
    {
        value = 0;
        if (Failed || Peek() != 'i')
        {
            return false;
        }

        ReadOnlySpan<byte> rest = _data[(_position + 1)..];
        int end = rest.IndexOf((byte)'e');
        if (end <= 0 || !Utf8Parser.TryParse(rest[..end], out value, out int consumed) || consumed != end)
        {
            return Fail();
        }

        _position += end + 2;
        return true;
    }

    /// <summary>Reads a byte string if the next value is one.</summary>
    /// <param name="value">The bytes: a slice of the input.</param>
    /// <returns><see langword="false"/> when the next value is of another type (nothing is consumed) or malformed (<see cref="Failed"/>).</returns>
    public bool TryReadString(out ReadOnlySpan<byte> value)
    {
        value = default;
        if (Failed || Peek() is < '0' or > '9')
        {
            return false;
        }

        ReadOnlySpan<byte> rest = _data[_position..];
        int colon = rest.IndexOf((byte)':');
        if (colon <= 0 || colon > 10 || !Utf8Parser.TryParse(rest[..colon], out long length, out int consumed)
            || consumed != colon || length > rest.Length - colon - 1)
        {
            return Fail();
        }

        value = rest.Slice(colon + 1, (int)length);
        _position += colon + 1 + (int)length;
        return true;
    }

    /// <summary>Skips the next value, whatever its type.</summary>
    /// <returns><see langword="false"/> (and <see cref="Failed"/>) when it is malformed.</returns>
    public bool TrySkipValue() => TrySkipValue(0);

    private bool TrySkipValue(int depth)
    {
        if (Failed || depth > MaxDepth)
        {
            return Fail();
        }

        switch (Peek())
        {
            case 'i':
                return TryReadInteger(out _);
            case >= '0' and <= '9':
                return TryReadString(out _);
            case 'l':
            case 'd':
                bool dictionary = Peek() == 'd';
                _position++;
                while (Peek() != 'e')
                {
                    if ((dictionary && !TryReadString(out _)) || !TrySkipValue(depth + 1))
                    {
                        return Fail();
                    }
                }

                _position++;
                return true;
            default:
                return Fail();
        }
    }

    // -1 at the end of the input, which no branch accepts.
    private readonly int Peek() => _position < _data.Length ? _data[_position] : -1;

    private bool Fail()
    {
        Failed = true;
        return false;
    }
}
