using System.Buffers;
using System.Text;

namespace BlockTorrent.Bencode;

/// <summary>
/// A decoded bencode value held in memory: an integer, a byte string, a list or a dictionary whose keys stay sorted
/// in raw byte order. For small documents (tests, extension handshakes); large ones are walked with
/// <see cref="BencodeReader"/>.
/// </summary>
internal sealed class BencodeValue : IEquatable<BencodeValue>
{
    private BencodeValue(BencodeTokenType kind, long integer, byte[]? bytes, List<BencodeValue>? list, SortedList<byte[], BencodeValue>? dictionary)
    {
        Kind = kind;
        Integer = integer;
        Bytes = bytes;
        List = list;
        Dictionary = dictionary;
    }

    /// <summary>Gets the kind: <see cref="BencodeTokenType.Integer"/>, <see cref="BencodeTokenType.String"/>,
    /// <see cref="BencodeTokenType.StartList"/> or <see cref="BencodeTokenType.StartDictionary"/>.</summary>
    public BencodeTokenType Kind { get; }

    /// <summary>Gets the integer value (for an integer).</summary>
    public long Integer { get; }

    /// <summary>Gets the bytes (for a byte string).</summary>
    public byte[]? Bytes { get; }

    /// <summary>Gets the items (for a list).</summary>
    public List<BencodeValue>? List { get; }

    /// <summary>Gets the entries, sorted by key bytes (for a dictionary).</summary>
    public SortedList<byte[], BencodeValue>? Dictionary { get; }

    /// <summary>Creates an integer value.</summary>
    /// <param name="value">The integer.</param>
    /// <returns>The value.</returns>
    public static BencodeValue FromInteger(long value) => new(BencodeTokenType.Integer, value, null, null, null);

    /// <summary>Creates a byte string value.</summary>
    /// <param name="value">The bytes (not copied).</param>
    /// <returns>The value.</returns>
    public static BencodeValue FromBytes(byte[] value) => new(BencodeTokenType.String, 0, value ?? throw new ArgumentNullException(nameof(value)), null, null);

    /// <summary>Creates a UTF-8 byte string value.</summary>
    /// <param name="value">The text.</param>
    /// <returns>The value.</returns>
    public static BencodeValue FromString(string value) => FromBytes(Encoding.UTF8.GetBytes(value));

    /// <summary>Creates a list value.</summary>
    /// <param name="items">The items.</param>
    /// <returns>The value.</returns>
    public static BencodeValue FromList(IEnumerable<BencodeValue> items) => new(BencodeTokenType.StartList, 0, null, [.. items], null);

    /// <summary>Creates a dictionary value; a later entry with the same key replaces an earlier one.</summary>
    /// <param name="entries">The entries.</param>
    /// <returns>The value.</returns>
    public static BencodeValue FromDictionary(IEnumerable<KeyValuePair<byte[], BencodeValue>> entries)
    {
        var dictionary = new SortedList<byte[], BencodeValue>(ByteStringComparer.Instance);
        foreach (var (key, value) in entries)
        {
            dictionary[key] = value;
        }

        return new(BencodeTokenType.StartDictionary, 0, null, null, dictionary);
    }

    /// <summary>Decodes exactly one strict, canonical value.</summary>
    /// <param name="data">The encoded bytes.</param>
    /// <returns>The value.</returns>
    /// <exception cref="BencodeException">The bytes are not exactly one valid value.</exception>
    public static BencodeValue Parse(ReadOnlySpan<byte> data) => Parse(data, BencodeReaderOptions.Default);

    /// <summary>Decodes exactly one strict, canonical value under the given limits.</summary>
    /// <param name="data">The encoded bytes.</param>
    /// <param name="options">The limits.</param>
    /// <returns>The value.</returns>
    /// <exception cref="BencodeException">The bytes are not exactly one valid value.</exception>
    public static BencodeValue Parse(ReadOnlySpan<byte> data, BencodeReaderOptions options)
    {
        var reader = new BencodeReader(data, options);
        reader.Read();
        BencodeValue value = ReadValue(ref reader);
        reader.Read(); // checks that nothing follows
        return value;
    }

    /// <summary>Reads the value the reader is positioned on (and everything inside it).</summary>
    /// <param name="reader">A reader positioned on a value's first token.</param>
    /// <returns>The value.</returns>
    public static BencodeValue ReadValue(ref BencodeReader reader)
    {
        switch (reader.TokenType)
        {
            case BencodeTokenType.Integer:
                return FromInteger(reader.IntegerValue);
            case BencodeTokenType.String:
                return FromBytes(reader.ValueSpan.ToArray());
            case BencodeTokenType.StartList:
                var list = new List<BencodeValue>();
                while (reader.Read() && reader.TokenType != BencodeTokenType.EndList)
                {
                    list.Add(ReadValue(ref reader));
                }

                return new(BencodeTokenType.StartList, 0, null, list, null);
            case BencodeTokenType.StartDictionary:
                var dictionary = new SortedList<byte[], BencodeValue>(ByteStringComparer.Instance);
                while (reader.Read() && reader.TokenType != BencodeTokenType.EndDictionary)
                {
                    byte[] key = reader.ValueSpan.ToArray();
                    reader.Read();
                    dictionary.Add(key, ReadValue(ref reader));
                }

                return new(BencodeTokenType.StartDictionary, 0, null, null, dictionary);
            default:
                reader.ThrowHere($"expected a value, found {BencodeReader.Name(reader.TokenType)}");
                return null;
        }
    }

    /// <summary>Writes the value canonically.</summary>
    /// <param name="writer">The writer.</param>
    public void WriteTo(BencodeWriter writer)
    {
        switch (Kind)
        {
            case BencodeTokenType.Integer:
                writer.WriteInteger(Integer);
                break;
            case BencodeTokenType.String:
                writer.WriteString(Bytes);
                break;
            case BencodeTokenType.StartList:
                writer.WriteStartList();
                foreach (BencodeValue item in List!)
                {
                    item.WriteTo(writer);
                }

                writer.WriteEnd();
                break;
            default:
                writer.WriteStartDictionary();
                foreach (var (key, value) in Dictionary!)
                {
                    writer.WriteString(key);
                    value.WriteTo(writer);
                }

                writer.WriteEnd();
                break;
        }
    }

    /// <summary>Encodes the value canonically.</summary>
    /// <returns>The bytes.</returns>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>();
        WriteTo(new BencodeWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    /// <inheritdoc />
    public bool Equals(BencodeValue? other)
    {
        if (other is null || other.Kind != Kind)
        {
            return false;
        }

        return Kind switch
        {
            BencodeTokenType.Integer => Integer == other.Integer,
            BencodeTokenType.String => Bytes.AsSpan().SequenceEqual(other.Bytes),
            BencodeTokenType.StartList => List!.SequenceEqual(other.List!),
            _ => Dictionary!.Count == other.Dictionary!.Count
                && Dictionary.Keys.Zip(other.Dictionary.Keys).All(k => k.First.AsSpan().SequenceEqual(k.Second))
                && Dictionary.Values.SequenceEqual(other.Dictionary.Values),
        };
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as BencodeValue);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, Integer, Bytes?.Length, List?.Count, Dictionary?.Count);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        BencodeTokenType.Integer => Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        BencodeTokenType.String => Convert.ToHexStringLower(Bytes!),
        BencodeTokenType.StartList => "[" + string.Join(", ", List!) + "]",
        _ => "{" + string.Join(", ", Dictionary!.Select(e => Convert.ToHexStringLower(e.Key) + ": " + e.Value)) + "}",
    };

    /// <summary>Orders byte strings as BEP 3 sorts dictionary keys: raw bytes, shorter prefix first.</summary>
    internal sealed class ByteStringComparer : IComparer<byte[]>
    {
        public static ByteStringComparer Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
