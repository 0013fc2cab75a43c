using System.Globalization;

namespace BlockTorrent.Scratch;

/// <summary>
/// Fixed-size slots of a region with a free list: which piece lives in which slot. Not thread-safe; the owner locks.
/// A slot is reserved before its bytes are written and published only after, so readers never see a half-stored piece;
/// a slot freed while it is being read is reused only after the last read ends, so no read sees another piece's bytes.
/// </summary>
internal sealed class ScratchSlots
{
    private readonly Stack<int> _free;
    private readonly Dictionary<int, (int Slot, int Length, bool Ready, int Readers)> _pieces = [];

    // Slots of freed pieces still being read: the readers left and the bytes they hold.
    private readonly Dictionary<int, (int Readers, int Length)> _retired = [];

    /// <summary>Initializes a new instance with every slot free.</summary>
    /// <param name="slotCount">The number of slots.</param>
    public ScratchSlots(int slotCount)
    {
        _free = new Stack<int>(slotCount);
        for (int slot = slotCount - 1; slot >= 0; slot--)
        {
            _free.Push(slot);
        }
    }

    /// <summary>Gets the bytes held by ready pieces, reservations and freed pieces still being read.</summary>
    public long BytesUsed { get; private set; }

    /// <summary>Gets the number of ready pieces.</summary>
    public int Count { get; private set; }

    /// <summary>Reserves a slot for a piece.</summary>
    /// <param name="piece">The piece.</param>
    /// <param name="length">Its length.</param>
    /// <param name="slot">The reserved slot.</param>
    /// <returns><see langword="false"/> when no slot is free.</returns>
    /// <exception cref="InvalidOperationException">The piece is already stored or being stored.</exception>
    public bool TryReserve(int piece, int length, out int slot)
    {
        if (_pieces.ContainsKey(piece))
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Piece {piece} is already stored."));
        }

        if (!_free.TryPop(out slot))
        {
            return false;
        }

        _pieces.Add(piece, (slot, length, false, 0));
        BytesUsed += length;
        return true;
    }

    /// <summary>Publishes a reserved piece once its bytes are in its slot.</summary>
    /// <param name="piece">The piece.</param>
    public void Publish(int piece)
    {
        var entry = _pieces[piece];
        _pieces[piece] = entry with { Ready = true };
        Count++;
    }

    /// <summary>Gets a ready piece's slot and length.</summary>
    /// <param name="piece">The piece.</param>
    /// <param name="slot">Its slot.</param>
    /// <param name="length">Its length.</param>
    /// <returns><see langword="true"/> when the piece is ready.</returns>
    public bool TryGet(int piece, out int slot, out int length)
    {
        if (_pieces.TryGetValue(piece, out var entry) && entry.Ready)
        {
            (slot, length) = (entry.Slot, entry.Length);
            return true;
        }

        (slot, length) = (-1, 0);
        return false;
    }

    /// <summary>Gets a ready piece's slot and length, and counts a read of it until <see cref="EndRead"/>.</summary>
    /// <param name="piece">The piece.</param>
    /// <param name="slot">Its slot.</param>
    /// <param name="length">Its length.</param>
    /// <returns><see langword="true"/> when the piece is ready.</returns>
    public bool TryBeginRead(int piece, out int slot, out int length)
    {
        if (_pieces.TryGetValue(piece, out var entry) && entry.Ready)
        {
            _pieces[piece] = entry with { Readers = entry.Readers + 1 };
            (slot, length) = (entry.Slot, entry.Length);
            return true;
        }

        (slot, length) = (-1, 0);
        return false;
    }

    /// <summary>Ends a read begun by <see cref="TryBeginRead"/>; a slot freed meanwhile is released with its last read.</summary>
    /// <param name="piece">The piece read.</param>
    /// <param name="slot">The slot it was read from.</param>
    public void EndRead(int piece, int slot)
    {
        if (_pieces.TryGetValue(piece, out var entry) && entry.Slot == slot)
        {
            _pieces[piece] = entry with { Readers = entry.Readers - 1 };
            return;
        }

        (int readers, int length) = _retired[slot];
        if (readers > 1)
        {
            _retired[slot] = (readers - 1, length);
            return;
        }

        _retired.Remove(slot);
        _free.Push(slot);
        BytesUsed -= length;
    }

    /// <summary>Frees a piece's slot (ready or only reserved).</summary>
    /// <param name="piece">The piece.</param>
    /// <param name="onlyIfReady">Whether a reservation in progress is left alone.</param>
    /// <returns><see langword="true"/> when a slot was freed.</returns>
    public bool Free(int piece, bool onlyIfReady)
    {
        if (!_pieces.TryGetValue(piece, out var entry) || (onlyIfReady && !entry.Ready))
        {
            return false;
        }

        _pieces.Remove(piece);
        if (entry.Readers > 0)
        {
            _retired.Add(entry.Slot, (entry.Readers, entry.Length));
        }
        else
        {
            _free.Push(entry.Slot);
            BytesUsed -= entry.Length;
        }

        if (entry.Ready)
        {
            Count--;
        }

        return true;
    }

    /// <summary>Throws unless a destination can hold a stored piece.</summary>
    /// <param name="piece">The piece.</param>
    /// <param name="length">The stored length.</param>
    /// <param name="destinationLength">The destination's length.</param>
    public static void CheckDestination(int piece, int length, int destinationLength)
    {
        if (destinationLength < length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Piece {piece} is {length} bytes long; the destination holds only {destinationLength}."), "destination");
        }
    }
}
