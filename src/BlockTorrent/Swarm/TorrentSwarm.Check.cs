using BlockTorrent.Wire;
using BlockTorrent.Writing;

namespace BlockTorrent.Swarm;

/// <summary>
/// A re-image's check running beside the swarm (<see cref="BackgroundCheck"/>): the swarm starts wanting nothing, the
/// check hands it each piece it finds missing, announces each piece it finds on the device, and the deployment cannot
/// complete before the check has.
/// </summary>
internal sealed partial class TorrentSwarm : ICheckTarget
{
    private bool _checking;

    /// <summary>Gets a value indicating whether a background check is still running.</summary>
    public bool IsChecking
    {
        get
        {
            lock (Sync)
            {
                return _checking;
            }
        }
    }

    /// <summary>Makes the swarm wait for a background check: nothing is wanted until the check says so. Call before <see cref="Start"/>.</summary>
    public void BeginCheck()
    {
        lock (Sync)
        {
            _checking = true;
            Picker!.ClearWanted();
        }
    }

    /// <summary>Fails the deployment (the background check failed: the device could not be read, say).</summary>
    /// <param name="error">Why.</param>
    public void Fail(Exception error) => _completed.TrySetException(error);

    /// <inheritdoc/>
    int ICheckTarget.PiecesWanted
    {
        get
        {
            lock (Sync)
            {
                return Picker!.Wanted.Count;
            }
        }
    }

    /// <inheritdoc/>
    void ICheckTarget.Want(int piece)
    {
        lock (Sync)
        {
            if (IsStopping || !Picker!.AddWanted(piece))
            {
                return;
            }

            foreach (PeerSession session in _sessions)
            {
                if (session.Pick.Has[piece])
                {
                    session.UpdateInterest(true);
                    session.Signal();
                }
            }
        }
    }

    /// <inheritdoc/>
    bool ICheckTarget.TryWithdraw(int piece)
    {
        lock (Sync)
        {
            return Picker!.TryUnwant(piece);
        }
    }

    /// <inheritdoc/>
    void ICheckTarget.OnDevice(int piece, bool found)
    {
        lock (Sync)
        {
            if (IsStopping || !Picker!.MarkHave(piece))
            {
                return;
            }

            if (_offers is null)
            {
                foreach (PeerSession session in _sessions)
                {
                    session.Send(new Outgoing(MessageId.Have, new BlockRequest(piece, 0, 0)));
                }
            }
        }

        _host.Publish(new SwarmEvent(found ? SwarmEventKind.PieceFoundOnDevice : SwarmEventKind.PieceVerified, InfoHashText) { Piece = piece });
    }

    /// <inheritdoc/>
    void ICheckTarget.CheckCompleted()
    {
        lock (Sync)
        {
            _checking = false;
            _host.Publish(new SwarmEvent(SwarmEventKind.CheckCompleted, InfoHashText));
            CheckCompleteLocked();
        }
    }
}
