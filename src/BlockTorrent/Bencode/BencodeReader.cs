using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace BlockTorrent.Bencode;

/// <summary>
/// The one bencode reader: forward-only and allocation-free, in the manner of <c>Utf8JsonReader</c>.
/// <see cref="Read"/> and <see cref="TryRead"/> stop at every integer, string and container boundary.
/// </summary>
/// <remarks>
/// <para>
/// By default (<see cref="BencodeReaderOptions.Default"/>, for .torrent files and tracker responses) it is strict:
/// exactly one value is accepted, and nothing after it. Anything that has a second spelling is rejected, so a
/// value that reads without error re-encodes to the same bytes: integers without leading zeros and without
/// <c>-0</c>, string lengths without leading zeros, dictionary keys in strictly ascending raw byte order (no
/// duplicates). <see cref="BencodeReaderOptions.Lenient"/> (for peers' extension messages, which are not all
/// canonical) accepts keys in any order, repeated keys and leading zeros, and stops after the value, so whatever
/// follows it (a ut_metadata piece's bytes) starts at <see cref="BytesConsumed"/>.
/// </para>
/// <para>
/// Two ways to meet malformed input, over one tokenizer: <see cref="Read"/>, <see cref="Skip"/> and
/// <see cref="ReadExpect"/> throw <see cref="BencodeException"/> naming the byte offset; <see cref="TryRead"/>,
/// <see cref="TryReadEntry"/> and <see cref="TrySkip"/> never throw, return <see langword="false"/> and set
/// <see cref="HasError"/>, so a hostile peer costs a closed connection, not an exception per message. Once an
/// error is met every later call fails the same way.
/// </para>
/// <para>
/// Up to 16 nesting levels are tracked inline; deeper input (allowed up to
/// <see cref="BencodeReaderOptions.MaxDepth"/>) moves the bookkeeping to one small array.
/// </para>
/// </remarks>
internal ref struct BencodeReader
{
    // 19 digits cover every long; a 20th digit can only overflow or be a leading zero.
    private const int MaxIntegerDigits = 19;

    // A string length above int.MaxValue cannot fit in the input, so 10 digits are enough.
    private const int MaxLengthDigits = 10;

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _maxDepth;
    private readonly int _maxStringLength;
    private readonly bool _canonical;
    private readonly bool _allowTrailingData;
    private int _position;
    private int _depth;
    private bool _finished;
    private InlineFrames _inlineFrames;
    private Frame[]? _deepFrames;
    private string? _error;
    private int _errorOffset;

    /// <summary>Initializes a new reader over <paramref name="data"/>.</summary>
    /// <param name="data">The bencoded bytes: exactly one value.</param>
    /// <param name="options">The limits to enforce.</param>
    /// <remarks>Input larger than <see cref="BencodeReaderOptions.MaxSize"/> fails the first read.</remarks>
    public BencodeReader(ReadOnlySpan<byte> data, BencodeReaderOptions options)
    {
        _data = data;
        _maxDepth = options.MaxDepth;
        _maxStringLength = options.MaxStringLength;
        _canonical = options.RequireCanonical;
        _allowTrailingData = options.AllowTrailingData;
        TokenType = BencodeTokenType.None;
        if (data.Length > options.MaxSize)
        {
            Fail(options.MaxSize, $"the input is {data.Length} bytes, more than the limit of {options.MaxSize}");
        }
    }

    /// <summary>Initializes a new reader with the default limits.</summary>
    /// <param name="data">The bencoded bytes: exactly one value.</param>
    public BencodeReader(ReadOnlySpan<byte> data)
        : this(data, BencodeReaderOptions.Default)
    {
    }

    /// <summary>Gets the kind of the current token.</summary>
    public BencodeTokenType TokenType { get; private set; }

    /// <summary>Gets the offset of the first byte of the current token.</summary>
    public int TokenStart { get; private set; }

    /// <summary>Gets the offset just past the current token (for a container start: past the <c>l</c> or <c>d</c>).</summary>
    public readonly int BytesConsumed => _position;

    /// <summary>Gets the nesting depth after the current token: 1 inside a top-level container.</summary>
    public readonly int Depth => _depth;

    /// <summary>Gets the bytes of the current <see cref="BencodeTokenType.String"/> token.</summary>
    public ReadOnlySpan<byte> ValueSpan { get; private set; }

    /// <summary>Gets the value of the current <see cref="BencodeTokenType.Integer"/> token.</summary>
    public long IntegerValue { get; private set; }

    /// <summary>Gets a value indicating whether the current string token is a dictionary key.</summary>
    public bool IsKey { get; private set; }

    /// <summary>Gets the input this reader walks.</summary>
    public readonly ReadOnlySpan<byte> Data => _data;

    /// <summary>Gets a value indicating whether malformed input was met; every later read then fails.</summary>
    public readonly bool HasError => _error is not null;

    /// <summary>
    /// Advances to the next token. Returns <see langword="false"/> once the single top-level value has been read
    /// completely, after checking that no byte follows it (unless <see cref="BencodeReaderOptions.AllowTrailingData"/>).
    /// </summary>
    /// <returns><see langword="true"/> when positioned on a new token.</returns>
    /// <exception cref="BencodeException">The input is malformed, truncated, non-canonical or beyond a limit.</exception>
    public bool Read()
    {
        if (TryRead())
        {
            return true;
        }

        if (_error is not null)
        {
            ThrowError();
        }

        return false;
    }

    /// <summary>
    /// Advances to the next token without throwing: <see cref="Read"/>, with malformed input reported by
    /// <see cref="HasError"/>.
    /// </summary>
    /// <returns>
    /// <see langword="true"/> when positioned on a new token; <see langword="false"/> after the top-level value, or
    /// on malformed input (<see cref="HasError"/>).
    /// </returns>
    public bool TryRead()
    {
        if (_error is not null)
        {
            return false;
        }

        if (_finished)
        {
            return _position != _data.Length && !_allowTrailingData
                ? Fail(_position, $"{_data.Length - _position} bytes of trailing data after the value")
                : false;
        }

        if (_position >= _data.Length)
        {
            return Fail(_position, _data.IsEmpty ? "the input is empty" : "the input ends in the middle of a value");
        }

        TokenStart = _position;
        IsKey = false;
        byte b = _data[_position];
        bool inDictionary = _depth > 0 && CurrentFrame.IsDictionary;
        bool expectKey = inDictionary && CurrentFrame.ExpectKey;

        if (b == (byte)'e')
        {
            if (_depth == 0)
            {
                return Fail(_position, "'e' without an open list or dictionary");
            }

            if (inDictionary && !expectKey)
            {
                return Fail(_position, "a dictionary key has no value");
            }

            _position++;
            TokenType = inDictionary ? BencodeTokenType.EndDictionary : BencodeTokenType.EndList;
            _depth--;
            OnValueCompleted();
            return true;
        }

        if (expectKey && !IsDigit(b))
        {
            return Fail(_position, $"a dictionary key must be a byte string, found {Describe(b)}");
        }

        switch (b)
        {
            case (byte)'i':
                if (!ReadInteger())
                {
                    return false;
                }

                OnValueCompleted();
                return true;
            case (byte)'l':
            case (byte)'d':
                if (!Push(b == (byte)'d'))
                {
                    return false;
                }

                _position++;
                TokenType = b == (byte)'d' ? BencodeTokenType.StartDictionary : BencodeTokenType.StartList;
                return true;
            default:
                if (!IsDigit(b))
                {
                    return Fail(_position, b == (byte)'-'
                        ? "a string length cannot be negative"
                        : $"expected a value (i, l, d or a string length), found {Describe(b)}");
                }

                if (!ReadString())
                {
                    return false;
                }

                if (expectKey)
                {
                    if (_canonical && !CheckKeyOrder())
                    {
                        return false;
                    }

                    IsKey = true;
                    CurrentFrame.ExpectKey = false;
                }
                else
                {
                    OnValueCompleted();
                }

                return true;
        }
    }

    /// <summary>
    /// Skips the current value: for a container start, everything up to and including its end; for a dictionary
    /// key, the key's value. Scalars need no skipping. Everything skipped is still validated.
    /// </summary>
    /// <exception cref="BencodeException">What is skipped is malformed.</exception>
    public void Skip()
    {
        if (!TrySkip())
        {
            ThrowError();
        }
    }

    /// <summary>Skips the current value without throwing: <see cref="Skip"/>, with malformed input reported by <see cref="HasError"/>.</summary>
    /// <returns><see langword="false"/> on malformed input.</returns>
    public bool TrySkip()
    {
        if (IsKey && !TryRead())
        {
            return false;
        }

        if (TokenType is BencodeTokenType.StartList or BencodeTokenType.StartDictionary)
        {
            int depth = _depth - 1;
            while (_depth > depth)
            {
                if (!TryRead())
                {
                    return false;
                }
            }
        }

        return _error is null;
    }

    /// <summary>
    /// Inside a dictionary, reads the next key and then the first token of its value (for a container, its start:
    /// read on, or <see cref="TrySkip"/> it, before the next call). Never throws.
    /// </summary>
    /// <param name="key">The key's bytes: a slice of the input.</param>
    /// <returns>
    /// <see langword="true"/> when positioned on the key's value; <see langword="false"/> at the end of the
    /// dictionary (its end consumed) or on malformed input (<see cref="HasError"/>).
    /// </returns>
    public bool TryReadEntry(out ReadOnlySpan<byte> key)
    {
        if (!TryRead() || !IsKey)
        {
            key = default;
            return false;
        }

        key = ValueSpan;
        return TryRead();
    }

    /// <summary>Reads the next token and checks that it is <paramref name="expected"/>.</summary>
    /// <param name="expected">The token kind required.</param>
    /// <param name="what">What the value is, for the error message.</param>
    /// <exception cref="BencodeException">The input is invalid bencode or the token is of another kind.</exception>
    public void ReadExpect(BencodeTokenType expected, string what)
    {
        if (!Read() || TokenType != expected)
        {
            ThrowAt(TokenStart, $"{what} must be {Name(expected)}, found {Name(TokenType)}");
        }
    }

    /// <summary>Starts a dictionary without throwing: reads the next token and checks that it opens one.</summary>
    /// <returns><see langword="false"/> when the next value is not a dictionary or is malformed.</returns>
    public bool TryReadStartDictionary() => TryRead() && TokenType == BencodeTokenType.StartDictionary;

    /// <summary>Throws a <see cref="BencodeException"/> for the current token.</summary>
    /// <param name="reason">What is wrong with it.</param>
    [DoesNotReturn]
    public readonly void ThrowHere(string reason) => ThrowAt(TokenStart, reason);

    /// <summary>Gets a readable name for a token kind, for error messages.</summary>
    /// <param name="type">The token kind.</param>
    /// <returns>"an integer", "a byte string", …</returns>
    public static string Name(BencodeTokenType type) => type switch
    {
        BencodeTokenType.Integer => "an integer",
        BencodeTokenType.String => "a byte string",
        BencodeTokenType.StartList => "a list",
        BencodeTokenType.StartDictionary => "a dictionary",
        BencodeTokenType.EndList or BencodeTokenType.EndDictionary => "the end of a container",
        _ => "nothing",
    };

    private bool ReadInteger()
    {
        int start = _position;
        int p = start + 1;
        bool negative = p < _data.Length && _data[p] == (byte)'-';
        if (negative)
        {
            p++;
        }

        int digitsStart = p;
        ulong magnitude = 0;
        while (p < _data.Length && IsDigit(_data[p]))
        {
            if (p - digitsStart >= MaxIntegerDigits)
            {
                return Fail(start, $"the integer has more than {MaxIntegerDigits} digits");
            }

            magnitude = (magnitude * 10) + (ulong)(_data[p] - '0');
            p++;
        }

        int digits = p - digitsStart;
        if (p >= _data.Length)
        {
            return Fail(p, "the input ends inside an integer");
        }

        if (_data[p] != (byte)'e')
        {
            return Fail(p, $"an integer must end with 'e', found {Describe(_data[p])}");
        }

        if (digits == 0)
        {
            return Fail(start, "an integer has no digits");
        }

        if (_canonical && _data[digitsStart] == (byte)'0' && (digits > 1 || negative))
        {
            return Fail(start, negative ? "'-0' is not canonical" : "an integer has a leading zero");
        }

        if (negative ? magnitude > (ulong)long.MaxValue + 1 : magnitude > long.MaxValue)
        {
            return Fail(start, "the integer does not fit in 64 bits");
        }

        IntegerValue = negative ? (long)(0 - magnitude) : (long)magnitude;
        TokenType = BencodeTokenType.Integer;
        ValueSpan = default;
        _position = p + 1;
        return true;
    }

    private bool ReadString()
    {
        int start = _position;
        int p = start;
        long length = 0;
        while (p < _data.Length && IsDigit(_data[p]))
        {
            if (p - start >= MaxLengthDigits)
            {
                return Fail(start, $"the string length has more than {MaxLengthDigits} digits");
            }

            length = (length * 10) + (_data[p] - '0');
            p++;
        }

        if (p >= _data.Length)
        {
            return Fail(p, "the input ends inside a string length");
        }

        if (_data[p] != (byte)':')
        {
            return Fail(p, $"a string length must be followed by ':', found {Describe(_data[p])}");
        }

        if (_canonical && _data[start] == (byte)'0' && p - start > 1)
        {
            return Fail(start, "a string length has a leading zero");
        }

        if (length > _maxStringLength)
        {
            return Fail(start, $"the string is {length} bytes, more than the limit of {_maxStringLength}");
        }

        p++;
        if (length > _data.Length - p)
        {
            return Fail(start, $"the string claims {length} bytes but only {_data.Length - p} remain");
        }

        ValueSpan = _data.Slice(p, (int)length);
        TokenType = BencodeTokenType.String;
        _position = p + (int)length;
        return true;
    }

    private void OnValueCompleted()
    {
        if (_depth == 0)
        {
            _finished = true;
        }
        else if (CurrentFrame.IsDictionary)
        {
            CurrentFrame.ExpectKey = true;
        }
    }

    private bool CheckKeyOrder()
    {
        ref Frame frame = ref CurrentFrame;
        if (frame.LastKeyStart >= 0)
        {
            int order = _data.Slice(frame.LastKeyStart, frame.LastKeyLength).SequenceCompareTo(ValueSpan);
            if (order >= 0)
            {
                return Fail(TokenStart, order == 0 ? "a dictionary key is repeated" : "dictionary keys are not in ascending byte order");
            }
        }

        frame.LastKeyStart = _position - ValueSpan.Length;
        frame.LastKeyLength = ValueSpan.Length;
        return true;
    }

    private bool Push(bool dictionary)
    {
        if (_depth >= _maxDepth)
        {
            return Fail(_position, $"nesting is deeper than the limit of {_maxDepth}");
        }

        if (_depth == InlineFrames.Length && _deepFrames is null)
        {
            _deepFrames = new Frame[_maxDepth];
            ((ReadOnlySpan<Frame>)_inlineFrames).CopyTo(_deepFrames);
        }

        _depth++;
        CurrentFrame = new Frame { IsDictionary = dictionary, ExpectKey = dictionary, LastKeyStart = -1 };
        return true;
    }

    private ref Frame CurrentFrame
    {
        [UnscopedRef]
        get
        {
            Debug.Assert(_depth > 0, "There is no open container.");
            return ref _deepFrames is not null ? ref _deepFrames[_depth - 1] : ref _inlineFrames[_depth - 1];
        }
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static string Describe(byte b) => b is >= 0x20 and < 0x7F ? $"'{(char)b}'" : $"byte 0x{b:x2}";

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAt(int offset, string reason) => throw new BencodeException(offset, reason);

    // Records the error; every later read fails on it before reaching here. Returns false so error paths read
    // "return Fail(...)".
    private bool Fail(int offset, string reason)
    {
        _error = reason;
        _errorOffset = offset;
        return false;
    }

    [DoesNotReturn]
    private readonly void ThrowError()
    {
        Debug.Assert(_error is not null, "A read failed without an error.");
        ThrowAt(_errorOffset, _error ?? "the input is malformed");
    }

    private struct Frame
    {
        public bool IsDictionary;
        public bool ExpectKey;
        public int LastKeyStart;
        public int LastKeyLength;
    }

    [InlineArray(Length)]
    private struct InlineFrames
    {
        public const int Length = 16;
        private Frame _first;
    }
}
