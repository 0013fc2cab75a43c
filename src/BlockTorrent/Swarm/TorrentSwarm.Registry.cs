using System.Net;
using System.Net.Sockets;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm;

/// <summary>
/// The session registry: which connections, dialled or accepted, become sessions (not ourselves, not a banned peer,
/// one connection per peer, a slot by <see cref="ConnectionSlots"/>), what each is told first,
/// and what its extended handshake and its end change.
/// </summary>
internal sealed partial class TorrentSwarm
{
    /// <summary>Takes over an incoming connection whose handshake named this torrent; replies with our handshake.</summary>
    public async Task AcceptAsync(Socket socket, Stream stream, PeerHandshake remote)
    {
        var reply = new PeerHandshake(_features, remote.InfoHash, _host.PeerId.Span);
        byte[] bytes = new byte[PeerHandshake.Size];
        reply.WriteTo(bytes);
        await stream.WriteAsync(bytes, _stop.Token).ConfigureAwait(false);
        if (!Register(socket, stream, remote, outgoing: false, reserved: false))
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public void OnClosed(PeerSession session, string reason)
    {
        lock (Sync)
        {
            if (!_sessions.Remove(session))
            {
                return;
            }

            Extensions.OnPeerClosed(session);

            // Its outstanding requests took their bytes from the download cap and will not bring them.
            Download.Refund(Picker?.RemovePeer(session.Pick) ?? 0);
            _offers?.OnPeerClosed(session);

            InterruptRentsLocked();
            foreach (PeerSession other in _sessions)
            {
                other.Signal();
            }
        }

        SwarmMetrics.PeersConnected.Add(-1);
        _host.Publish(new SwarmEvent(SwarmEventKind.PeerDisconnected, InfoHashText) { Peer = session.Remote, Detail = reason });
        RunChoker();
    }

    /// <inheritdoc/>
    public void OnExtendedHandshake(PeerSession session, ExtensionHandshake handshake)
    {
        lock (Sync)
        {
            if (handshake.RequestQueue > 0)
            {
                session.Queue.PeerLimit = handshake.RequestQueue;
            }

            if (handshake.ListenPort > 0 && !session.IsOutgoing)
            {
                // Not dialled while this session lasts (IsBannedOrConnectedLocked knows its listen port); dialled back if it drops.
                var listen = new IPEndPoint(session.Remote.Address, handshake.ListenPort);
                session.ListenEndPoint = listen;
                _candidates.AddListenPort(listen);
            }
        }
    }

    private bool Register(Socket socket, Stream stream, PeerHandshake remote, bool outgoing, bool reserved)
    {
        var remoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        PeerSession? replaced = null;
        string? refusal = null;
        lock (Sync)
        {
            if (IsStopping || _banned.IsBanned(remoteEndPoint, remote.PeerId))
            {
                return false;
            }

            if (remote.PeerId.SequenceEqual(_host.PeerId.Span))
            {
                if (outgoing)
                {
                    _candidates.MarkSelf(remoteEndPoint);
                }

                return false;
            }

            PeerSession? existing = _sessions.Find(s => s.PeerId.AsSpan().SequenceEqual(remote.PeerId));
            if (existing is not null)
            {
                if (!ReplacesDuplicate(_host.PeerId.Span, remote.PeerId, existing.IsOutgoing, outgoing))
                {
                    return false;
                }

                replaced = existing;
            }
            else
            {
                long now = Time.GetTimestamp();
                bool sameHost = PeerAddress.IsSameHost(socket.LocalEndPoint as IPEndPoint, remoteEndPoint);
                refusal = ConnectionSlots.Decide(
                    _sessions,
                    Settings.MaxConnectionsPerTorrent,
                    remoteEndPoint.Address,
                    sameHost,
                    reserved,
                    now,
                    (long)(ConnectionSlots.IdleEviction.TotalSeconds * Time.TimestampFrequency),
                    s => Picker is { } picker && picker.IsInteresting(s.Pick),
                    sameHost || !_evictedAddresses.Contains(remoteEndPoint.Address, now),
                    out replaced);
                if (refusal is not null)
                {
                    Log.NoConnectionSlot(Logger, remoteEndPoint, refusal);
                    SwarmMetrics.PeersRefused.Add(1);
                    return false;
                }

                if (replaced is not null)
                {
                    replaced.Evicted = true;
                    if (!replaced.SameHost)
                    {
                        _evictedAddresses.Add(replaced.Remote.Address, now);
                    }

                    SwarmMetrics.PeersEvicted.Add(1, new KeyValuePair<string, object?>("reason", "idle"));
                }
            }

            var session = new PeerSession(this, socket, stream, remote, outgoing, _stop.Token) { Reserved = reserved };
            _sessions.Add(session);
            _peersSeen++;
            if (session.Extensions)
            {
                session.Send(new Outgoing(MessageId.Extended, Payload: _extensionHandshake, ExtensionId: 0));
            }

            SendPiecesLocked(session);
            session.Start();
            SwarmMetrics.PeersConnected.Add(1);
            Log.PeerConnected(Logger, session.Remote, outgoing ? "outgoing" : "incoming", Name);
            _host.Publish(new SwarmEvent(SwarmEventKind.PeerConnected, InfoHashText) { Peer = session.Remote });
        }

        replaced?.Close(replaced.Evicted ? "gave nothing while a newcomer needed its slot" : "replaced by the connection both ends keep");
        RunChoker();
        return true;
    }

    /// <summary>
    /// Decides between two connections to the same peer, which happen when both ends dial each other at once: each
    /// end must keep the same one, or each closes the one the other kept and neither survives until a redial seconds
    /// later. Both ends keep the connection dialled by the peer with the lower peer id; a second connection in the
    /// same direction as the first never replaces it.
    /// </summary>
    /// <param name="ourId">Our peer id.</param>
    /// <param name="theirId">The peer's id.</param>
    /// <param name="existingOutgoing">Whether the connection we have was dialled by us.</param>
    /// <param name="newOutgoing">Whether the new connection was dialled by us.</param>
    /// <returns><see langword="true"/> to keep the new connection and close the existing one.</returns>
    internal static bool ReplacesDuplicate(ReadOnlySpan<byte> ourId, ReadOnlySpan<byte> theirId, bool existingOutgoing, bool newOutgoing) =>
        existingOutgoing != newOutgoing && newOutgoing == ourId.SequenceCompareTo(theirId) < 0;

    private void SendPiecesLocked(PeerSession session)
    {
        Bitfield have = Picker!.Have;
        if (_offers is not null || have.IsEmpty)
        {
            if (session.Fast)
            {
                session.Send(new Outgoing(MessageId.HaveNone));
            }
        }
        else if (have.IsFull && session.Fast)
        {
            session.Send(new Outgoing(MessageId.HaveAll));
        }
        else
        {
            session.Send(new Outgoing(MessageId.Bitfield, Payload: have.ToWire()));
        }
    }
}
