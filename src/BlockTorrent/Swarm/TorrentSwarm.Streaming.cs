namespace BlockTorrent.Swarm;

/// <summary>A stream-format deployment: pieces are started only in the window just ahead of its decoder.</summary>
internal sealed partial class TorrentSwarm
{
    /// <summary>
    /// Limits the pieces started to a stream's window, and wakes every peer's requests when it moves; set before
    /// <see cref="Start"/>.
    /// </summary>
    /// <param name="window">The window the stream's decoder moves.</param>
    public void UseStreamWindow(StreamWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        lock (Sync)
        {
            Picker!.Window = window;
        }

        window.Moved += WakeRequests;
    }

    /// <summary>Wakes every session's request pump: pieces that could not be started before may be now.</summary>
    private void WakeRequests()
    {
        lock (Sync)
        {
            foreach (PeerSession s in _sessions)
            {
                s.Signal();
            }
        }
    }
}
