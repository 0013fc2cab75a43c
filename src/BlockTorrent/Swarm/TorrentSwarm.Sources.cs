using System.Globalization;
using System.Text;

namespace BlockTorrent.Swarm;

/// <summary>
/// Where pieces can come from: a seed that finds its source no longer matches the manifest stops offering what it
/// cannot serve, and a deployment left with pieces no usable peer has says so and, after
/// <see cref="StallTimeout"/>, fails instead of waiting for ever.
/// </summary>
internal sealed partial class TorrentSwarm
{
    // How long pieces must lack a source, with nothing arriving, before the deployment says so (once per stall).
    private static readonly TimeSpan UnavailableNotice = TimeSpan.FromSeconds(5);

    private readonly List<string> _bans = [];
    private int _progressPieces = -1;
    private long _stalledSince;
    private bool _unavailableReported;

    /// <summary>
    /// Gets or sets how long a deployment waits, with nothing arriving, while pieces it needs have no usable source
    /// (the deployment's <c>DeployOptions.StallTimeout</c>); set before <see cref="Start"/>.
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// A seed read a piece that does not match the manifest. No message takes back a have: the peers that were told we
    /// have it are disconnected, and reconnect to a bitfield without it, so they look elsewhere instead of asking again.
    /// </summary>
    private void OnSourcePieceInvalid(int piece)
    {
        Log.SourcePieceInvalid(Logger, piece, Device.Name);
        _host.Publish(new SwarmEvent(SwarmEventKind.SourcePieceInvalid, InfoHashText) { Piece = piece, Detail = Device.Name });
        PeerSession[] offered;
        lock (Sync)
        {
            if (IsStopping || !Picker!.Have.Clear(piece))
            {
                return;
            }

            _offers?.Withdraw(piece);

            offered = [.. _sessions];
        }

        string reason = string.Create(CultureInfo.InvariantCulture, $"our source no longer holds piece {piece} as the manifest describes it; reconnect for a bitfield without it");
        foreach (PeerSession session in offered)
        {
            // Not on this thread: the piece was read for one of these sessions, inside its send loop.
            ThreadPool.UnsafeQueueUserWorkItem(s => s.Close(reason), session, preferLocal: false);
        }
    }

    /// <summary>Remembers a ban and why, for the report of a deployment left without a source.</summary>
    private void RecordBanLocked(PeerSession culprit, int piece) =>
        _bans.Add(string.Create(CultureInfo.InvariantCulture, $"{culprit.ReachableAt ?? culprit.Remote}: sent {culprit.HashFailures} pieces that failed their hash check (the last: piece {piece}), as a source changed after its manifest was made does"));

    /// <summary>
    /// Once a second, for a deployment: while nothing arrives and some wanted piece has no source among the connected
    /// peers (and we have met a peer: connected to one, or banned one), reports it after <see cref="UnavailableNotice"/>
    /// and fails the deployment after <see cref="StallTimeout"/>.
    /// </summary>
    private void CheckSources(long now)
    {
        if (Writer is null || _completed.Task.IsCompleted)
        {
            return;
        }

        string? notice = null;
        PiecesUnavailableException? failure = null;
        lock (Sync)
        {
            PiecePicker picker = Picker!;
            List<int> missing = [];
            for (int i = picker.Wanted.NextSet(0); i >= 0; i = picker.Wanted.NextSet(i + 1))
            {
                if (picker.Availability(i) == 0)
                {
                    missing.Add(i);
                }
            }

            int have = picker.Have.Count;
            if (have != _progressPieces || missing.Count == 0 || (_sessions.Count == 0 && _bans.Count == 0))
            {
                _progressPieces = have;
                _stalledSince = now;
                _unavailableReported = false;
                return;
            }

            TimeSpan stalled = Time.GetElapsedTime(_stalledSince, now);
            bool stop = StallTimeout != Timeout.InfiniteTimeSpan && stalled >= StallTimeout;
            if (!stop && (_unavailableReported || stalled < UnavailableNotice))
            {
                return;
            }

            _unavailableReported = true;
            notice = DescribeUnavailableLocked(missing, picker.Wanted.Count);
            if (stop)
            {
                failure = new PiecesUnavailableException(
                    string.Create(CultureInfo.InvariantCulture, $"Nothing arrived for {StallTimeout.TotalSeconds:0.#} s and {notice}"),
                    missing,
                    [.. _bans]);
            }
        }

        if (failure is not null)
        {
            Log.PiecesUnavailableStop(Logger, Name, failure.Message);
            _completed.TrySetException(failure);
        }
        else
        {
            string when = StallTimeout == Timeout.InfiniteTimeSpan ? "it keeps waiting" : string.Create(CultureInfo.InvariantCulture, $"the deployment stops if none turns up within {StallTimeout.TotalSeconds:0.#} s");
            Log.PiecesUnavailable(Logger, Name, notice!, when);
            _host.Publish(new SwarmEvent(SwarmEventKind.PiecesUnavailable, InfoHashText) { Detail = $"{notice} ({when})" });
        }
    }

    private string DescribeUnavailableLocked(List<int> missing, int wanted)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"no peer can supply {missing.Count} of the {wanted} pieces still missing (pieces {Ranges(missing)}); ");
        if (_sessions.Count == 0)
        {
            text.Append("no peer is connected");
        }
        else
        {
            text.Append("connected peers without them: ").AppendJoin(", ", _sessions.Take(8).Select(s => s.ReachableAt ?? s.Remote));
            if (_sessions.Count > 8)
            {
                text.Append(CultureInfo.InvariantCulture, $" and {_sessions.Count - 8} more");
            }
        }

        text.Append("; banned peers: ");
        if (_bans.Count == 0)
        {
            text.Append("none");
        }
        else
        {
            text.AppendJoin("; ", _bans.TakeLast(8));
        }

        return text.ToString();
    }

    /// <summary>Writes sorted piece indices as ranges: <c>3, 8-11, 40</c> (at most 20 ranges, then how many more).</summary>
    private static string Ranges(List<int> pieces)
    {
        var text = new StringBuilder();
        int ranges = 0;
        for (int i = 0; i < pieces.Count;)
        {
            int j = i;
            while (j + 1 < pieces.Count && pieces[j + 1] == pieces[j] + 1)
            {
                j++;
            }

            if (++ranges > 20)
            {
                text.Append(CultureInfo.InvariantCulture, $", and {pieces.Count - i} more");
                break;
            }

            text.Append(ranges > 1 ? ", " : string.Empty).Append(pieces[i]);
            if (j > i)
            {
                text.Append('-').Append(pieces[j]);
            }

            i = j + 1;
        }

        return text.ToString();
    }
}
