using System.Buffers;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm.Extensions;

/// <summary>
/// BlockTorrent's <c>bt_stream_window</c> both ways (<see cref="StreamWindowMessage"/>). A stream-format target tells
/// every peer that speaks it its decoder's window, when the peer's extended handshake arrives and each time the window
/// moves; a peer's window, when it tells us one, goes to the swarm, whose super-seed then offers it only pieces it
/// will request.
/// </summary>
/// <remarks>
/// A peer that speaks nothing of it is never sent it (other clients see only our handshake's <c>m</c> entry). A window
/// a peer sends bounds only the offers made to that peer, so a false one costs nobody else anything.
/// </remarks>
internal sealed class StreamWindowExchange : PeerExtension
{
    /// <summary>The id we ask peers to send it under: fixed, so it is the same whether ut_pex is registered or not.</summary>
    public const byte WantedId = 8;

    private readonly Action<IExtensionPeer, StreamWindowMessage> _onWindow;
    private StreamWindow? _local;

    /// <summary>Initializes a new instance of the <see cref="StreamWindowExchange"/> class.</summary>
    /// <param name="onWindow">Takes the window a peer told us (called on its receive loop, outside the swarm's lock).</param>
    public StreamWindowExchange(Action<IExtensionPeer, StreamWindowMessage> onWindow)
        : base(StreamWindowMessage.Name, advertised: true)
    {
        _onWindow = onWindow;
    }

    /// <summary>Gets or sets our own decoder's window, told to peers; null when we are no stream target.</summary>
    public StreamWindow? Local
    {
        get => Volatile.Read(ref _local);
        set => Volatile.Write(ref _local, value);
    }

    /// <inheritdoc/>
    public override void OnHandshake(IExtensionPeer peer, ExtensionHandshake handshake)
    {
        if (Local is { } window && handshake.StreamWindow != 0)
        {
            Send(peer, handshake.StreamWindow, window);
        }
    }

    /// <inheritdoc/>
    public override string? OnMessage(IExtensionPeer peer, PeerMessage message)
    {
        if (!StreamWindowMessage.TryParse(message.Payload.ToArray(), out StreamWindowMessage window))
        {
            return "an invalid bt_stream_window message";
        }

        _onWindow(peer, window);
        return null;
    }

    /// <summary>Tells every peer that speaks it where our window is now (after it moved).</summary>
    /// <param name="peers">The connected peers.</param>
    public void Announce(IReadOnlyList<IExtensionPeer> peers)
    {
        if (Local is not { } window)
        {
            return;
        }

        foreach (IExtensionPeer peer in peers)
        {
            if (peer.RemoteExtensions?.StreamWindow is byte id and not 0)
            {
                Send(peer, id, window);
            }
        }
    }

    private static void Send(IExtensionPeer peer, byte id, StreamWindow window)
    {
        var payload = new ArrayBufferWriter<byte>(32);
        new StreamWindowMessage(window.Start, window.End).WriteTo(payload);
        peer.SendExtended(id, payload.WrittenSpan.ToArray());
    }
}
