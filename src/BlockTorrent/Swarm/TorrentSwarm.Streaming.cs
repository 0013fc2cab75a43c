using BlockTorrent.Swarm.Extensions;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm;

/// <summary>
/// A stream-format deployment: pieces are started only in the window just ahead of its decoder, and peers that speak
/// <c>bt_stream_window</c> are told where it is; a peer's window, told to a super-seed, bounds what it is offered.
/// </summary>
internal sealed partial class TorrentSwarm
{
    private readonly StreamWindowExchange _windows;

    /// <summary>
    /// Limits the pieces started to a stream's window, tells peers where it is and wakes every peer's requests when it
    /// moves; set before <see cref="Start"/>.
    /// </summary>
    /// <param name="window">The window the stream's decoder moves.</param>
    public void UseStreamWindow(StreamWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        lock (Sync)
        {
            Picker!.Window = window;
            _windows.Local = window;
        }

        window.Moved += OnWindowMoved;
    }

    /// <summary>
    /// Our window moved: every session's request pump may start pieces it could not before, and every peer that speaks
    /// <c>bt_stream_window</c> (a super-seed offering us pieces) learns the new window.
    /// </summary>
    private void OnWindowMoved()
    {
        lock (Sync)
        {
            foreach (PeerSession s in _sessions)
            {
                s.Signal();
            }

            _windows.Announce(_sessions);
        }
    }

    /// <summary>A peer told us its stream window (on its receive loop): a super-seed offers it only pieces inside it.</summary>
    private void OnPeerWindow(IExtensionPeer peer, StreamWindowMessage window)
    {
        var session = (PeerSession)peer;
        lock (Sync)
        {
            session.RemoteWindow = window;
            _offers?.OnPeerWindow(session);
        }
    }
}
