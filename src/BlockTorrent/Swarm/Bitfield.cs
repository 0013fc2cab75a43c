using System.Numerics;
using System.Runtime.CompilerServices;

namespace BlockTorrent.Swarm;

/// <summary>
/// A fixed-length set of piece indices packed 64 to a word, with a cached population count. Used for what we have,
/// what a peer has and what we want. Converts to and from the BitTorrent wire layout (BEP 3: the high bit of byte 0
/// is piece 0, spare bits at the end are zero).
/// </summary>
/// <remarks>
/// Invariant: bits at or beyond <see cref="Length"/> in the last word are always zero, so whole-word operations
/// (population counts, set algebra) never see them. Not thread-safe: the owner serialises access.
/// </remarks>
internal sealed class Bitfield
{
    private readonly ulong[] _words;
    private int _count;

    /// <summary>Initializes a new, empty instance.</summary>
    /// <param name="length">The number of pieces.</param>
    public Bitfield(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _words = new ulong[(length + 63) >> 6];
    }

    /// <summary>Initializes a new instance with the same bits as <paramref name="other"/>.</summary>
    /// <param name="other">The bitfield to copy.</param>
    public Bitfield(Bitfield other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Length = other.Length;
        _words = (ulong[])other._words.Clone();
        _count = other._count;
    }

    /// <summary>Gets the number of pieces the bitfield covers.</summary>
    public int Length { get; }

    /// <summary>Gets the number of set bits.</summary>
    public int Count => _count;

    /// <summary>Gets a value indicating whether every bit is set.</summary>
    public bool IsFull => _count == Length;

    /// <summary>Gets a value indicating whether no bit is set.</summary>
    public bool IsEmpty => _count == 0;

    /// <summary>Gets the number of bytes of the wire form.</summary>
    public int WireLength => (Length + 7) >> 3;

    /// <summary>Gets or sets a bit.</summary>
    /// <param name="index">The piece index.</param>
    public bool this[int index]
    {
        get
        {
            CheckIndex(index);
            return (_words[index >> 6] & (1UL << index)) != 0;
        }

        set
        {
            if (value)
            {
                Set(index);
            }
            else
            {
                Clear(index);
            }
        }
    }

    /// <summary>Sets a bit.</summary>
    /// <param name="index">The piece index.</param>
    /// <returns><see langword="true"/> when the bit was clear before.</returns>
    public bool Set(int index)
    {
        CheckIndex(index);
        ref ulong word = ref _words[index >> 6];
        ulong mask = 1UL << index;
        if ((word & mask) != 0)
        {
            return false;
        }

        word |= mask;
        _count++;
        return true;
    }

    /// <summary>Clears a bit.</summary>
    /// <param name="index">The piece index.</param>
    /// <returns><see langword="true"/> when the bit was set before.</returns>
    public bool Clear(int index)
    {
        CheckIndex(index);
        ref ulong word = ref _words[index >> 6];
        ulong mask = 1UL << index;
        if ((word & mask) == 0)
        {
            return false;
        }

        word &= ~mask;
        _count--;
        return true;
    }

    /// <summary>Sets every bit.</summary>
    public void SetAll()
    {
        Array.Fill(_words, ulong.MaxValue);
        TrimLastWord();
        _count = Length;
    }

    /// <summary>Clears every bit.</summary>
    public void ClearAll()
    {
        Array.Clear(_words);
        _count = 0;
    }

    /// <summary>Makes this bitfield a copy of <paramref name="other"/>.</summary>
    /// <param name="other">A bitfield of the same length.</param>
    public void CopyFrom(Bitfield other)
    {
        CheckSameLength(other);
        other._words.CopyTo(_words, 0);
        _count = other._count;
    }

    /// <summary>Keeps only the bits also set in <paramref name="other"/>.</summary>
    /// <param name="other">A bitfield of the same length.</param>
    public void And(Bitfield other)
    {
        CheckSameLength(other);
        for (int i = 0; i < _words.Length; i++)
        {
            _words[i] &= other._words[i];
        }

        Recount();
    }

    /// <summary>Adds the bits set in <paramref name="other"/>.</summary>
    /// <param name="other">A bitfield of the same length.</param>
    public void Or(Bitfield other)
    {
        CheckSameLength(other);
        for (int i = 0; i < _words.Length; i++)
        {
            _words[i] |= other._words[i];
        }

        Recount();
    }

    /// <summary>Removes the bits set in <paramref name="other"/>.</summary>
    /// <param name="other">A bitfield of the same length.</param>
    public void AndNot(Bitfield other)
    {
        CheckSameLength(other);
        for (int i = 0; i < _words.Length; i++)
        {
            _words[i] &= ~other._words[i];
        }

        Recount();
    }

    /// <summary>Gets a value indicating whether this bitfield has a bit set that <paramref name="other"/> lacks.</summary>
    /// <param name="other">A bitfield of the same length.</param>
    /// <returns><see langword="true"/> when <c>this AND NOT other</c> is not empty.</returns>
    public bool HasAnyNotIn(Bitfield other)
    {
        CheckSameLength(other);
        for (int i = 0; i < _words.Length; i++)
        {
            if ((_words[i] & ~other._words[i]) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Gets a value indicating whether a bit is set in both bitfields.</summary>
    /// <param name="other">A bitfield of the same length.</param>
    /// <returns><see langword="true"/> when <c>this AND other</c> is not empty.</returns>
    public bool Intersects(Bitfield other)
    {
        CheckSameLength(other);
        for (int i = 0; i < _words.Length; i++)
        {
            if ((_words[i] & other._words[i]) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Finds the first set bit at or after <paramref name="start"/>.</summary>
    /// <param name="start">The first index to look at.</param>
    /// <returns>The index, or -1 when there is none.</returns>
    public int NextSet(int start)
    {
        if (start >= Length)
        {
            return -1;
        }

        start = Math.Max(start, 0);
        int w = start >> 6;
        ulong word = _words[w] & (ulong.MaxValue << start);
        while (true)
        {
            if (word != 0)
            {
                return (w << 6) + BitOperations.TrailingZeroCount(word);
            }

            if (++w == _words.Length)
            {
                return -1;
            }

            word = _words[w];
        }
    }

    /// <summary>Finds the first set bit at or after <paramref name="start"/> that is also set in <paramref name="mask"/>.</summary>
    /// <param name="mask">A bitfield of the same length.</param>
    /// <param name="start">The first index to look at.</param>
    /// <returns>The index, or -1 when there is none.</returns>
    public int NextSetAnd(Bitfield mask, int start)
    {
        CheckSameLength(mask);
        if (start >= Length)
        {
            return -1;
        }

        start = Math.Max(start, 0);
        int w = start >> 6;
        ulong word = _words[w] & mask._words[w] & (ulong.MaxValue << start);
        while (true)
        {
            if (word != 0)
            {
                return (w << 6) + BitOperations.TrailingZeroCount(word);
            }

            if (++w == _words.Length)
            {
                return -1;
            }

            word = _words[w] & mask._words[w];
        }
    }

    /// <summary>Writes the wire form: <see cref="WireLength"/> bytes, piece 0 in the high bit of byte 0.</summary>
    /// <param name="destination">At least <see cref="WireLength"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        int bytes = WireLength;
        if (destination.Length < bytes)
        {
            throw new ArgumentException($"The bitfield needs {bytes} bytes, the destination has {destination.Length}.", nameof(destination));
        }

        for (int b = 0; b < bytes; b++)
        {
            ulong word = _words[b >> 3];
            destination[b] = ReverseBits((byte)(word >> ((b & 7) << 3)));
        }
    }

    /// <summary>Returns the wire form as a new array.</summary>
    /// <returns><see cref="WireLength"/> bytes.</returns>
    public byte[] ToWire()
    {
        byte[] bytes = new byte[WireLength];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>Reads the wire form, rejecting a wrong length or spare bits that are set.</summary>
    /// <param name="source">The bitfield message's payload.</param>
    /// <param name="length">The number of pieces.</param>
    /// <param name="bitfield">The parsed bitfield.</param>
    /// <returns><see langword="false"/> when the payload is not a valid bitfield for <paramref name="length"/> pieces.</returns>
    public static bool TryReadWire(ReadOnlySpan<byte> source, int length, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Bitfield? bitfield)
    {
        bitfield = new Bitfield(length);
        if (!bitfield.TryLoadWire(source))
        {
            bitfield = null;
            return false;
        }

        return true;
    }

    /// <summary>Replaces the bits with the wire form, rejecting a wrong length or spare bits that are set.</summary>
    /// <param name="source">The bitfield message's payload.</param>
    /// <returns><see langword="false"/> (and the bitfield unchanged) when the payload is not valid for <see cref="Length"/> pieces.</returns>
    public bool TryLoadWire(ReadOnlySpan<byte> source)
    {
        int bytes = WireLength;
        if (source.Length != bytes)
        {
            return false;
        }

        int spare = (bytes << 3) - Length;
        if (spare > 0 && (source[^1] & ((1 << spare) - 1)) != 0)
        {
            return false;
        }

        Array.Clear(_words);
        for (int b = 0; b < bytes; b++)
        {
            _words[b >> 3] |= (ulong)ReverseBits(source[b]) << ((b & 7) << 3);
        }

        Recount();
        return true;
    }

    /// <summary>Lists the set bits in ascending order.</summary>
    /// <returns>The set indices.</returns>
    public IEnumerable<int> SetIndices()
    {
        for (int i = NextSet(0); i >= 0; i = NextSet(i + 1))
        {
            yield return i;
        }
    }

    private void Recount()
    {
        int count = 0;
        foreach (ulong word in _words)
        {
            count += BitOperations.PopCount(word);
        }

        _count = count;
    }

    private void TrimLastWord()
    {
        int rem = Length & 63;
        if (rem != 0)
        {
            _words[^1] &= (1UL << rem) - 1;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Length)
        {
            ThrowIndex(index);
        }
    }

    private void CheckSameLength(Bitfield other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Length != Length)
        {
            throw new ArgumentException($"Bitfields of {Length} and {other.Length} pieces cannot be combined.", nameof(other));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte ReverseBits(byte b) => (byte)(((b * 0x0202020202UL) & 0x010884422010UL) % 1023);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowIndex(int index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"Piece index must be in [0, {Length}).");
}
