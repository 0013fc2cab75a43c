namespace BlockTorrent.Swarm;

/// <summary>
/// The pieces a stream-format deployment may start now: <c>[Start, End)</c>, just ahead of the decoder. The decoder
/// moves it (<see cref="Advance"/>); the picker reads it under the swarm's lock.
/// </summary>
/// <remarks>
/// Invariants the owner keeps: <see cref="Start"/> is the next piece the decoder needs, so the window always holds it
/// and the download can never wait on a piece it may not fetch; <see cref="End"/> never moves back, so a piece started
/// inside the window stays inside it until it is stored. Both only grow.
/// </remarks>
internal sealed class StreamWindow
{
    private int _start;
    private int _end;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="end">The first piece past the initial window; at least 1.</param>
    public StreamWindow(int end)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(end);
        _end = end;
    }

    /// <summary>Raised after the window moved, outside any lock: requests may be possible now.</summary>
    public event Action? Moved;

    /// <summary>Gets the next piece the decoder needs: the first piece of the window.</summary>
    public int Start => Volatile.Read(ref _start);

    /// <summary>Gets the first piece past the window.</summary>
    public int End => Volatile.Read(ref _end);

    /// <summary>Gets a value indicating whether a piece lies in the window.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when the piece may be started.</returns>
    public bool Contains(int piece) => piece >= Start && piece < End;

    /// <summary>Moves the window; neither edge moves back.</summary>
    /// <param name="start">The next piece the decoder needs.</param>
    /// <param name="end">The first piece past the window; greater than <paramref name="start"/>.</param>
    public void Advance(int start, int end)
    {
        if (start < Start || end < End || end <= start)
        {
            throw new ArgumentOutOfRangeException(nameof(end), $"A stream window moves forward and never empties: [{Start}, {End}) cannot become [{start}, {end}).");
        }

        Volatile.Write(ref _end, end);
        Volatile.Write(ref _start, start);
        Moved?.Invoke();
    }
}
