namespace BlockTorrent.Swarm;

/// <summary>
/// The swarm's second: rates, stalled requests, keep-alives and silent peers, super-seed offers that waited long enough,
/// the extensions' periodic work, the choker every ten seconds, the check for pieces without a source, and dialling.
/// </summary>
internal sealed partial class TorrentSwarm
{
    /// <summary>How long we may send a peer nothing before we send a keep-alive.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromMinutes(1);

    /// <summary>How long a peer may send us nothing (not even a keep-alive) before we drop it.</summary>
    public static readonly TimeSpan SilenceTimeout = TimeSpan.FromMinutes(3);

    private long _lastChoke;

    private async Task TickLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), Time);
        long last = Time.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                long now = Time.GetTimestamp();
                double seconds = Math.Max(0.001, (now - last) / (double)Time.TimestampFrequency);
                last = now;
                Tick(now, seconds);
                CheckSources(now);
                ConnectToCandidates();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private void Tick(long now, double seconds)
    {
        long frequency = Time.TimestampFrequency;
        long timeout = (long)(Settings.RequestTimeout.TotalSeconds * frequency);
        long keepAlive = (long)(KeepAliveInterval.TotalSeconds * frequency);
        long silence = (long)(SilenceTimeout.TotalSeconds * frequency);
        var close = new List<(PeerSession, string)>();
        bool choke;
        lock (Sync)
        {
            foreach (PeerSession s in _sessions)
            {
                s.UpdateRates(seconds);
                if (s.Pick.Outstanding > 0 && now - s.LastProgress > timeout)
                {
                    Log.PeerStalled(Logger, s.Remote, s.Pick.Outstanding);
                    RefundReleasedLocked(s.Pick);
                    s.Queue.Reset();
                    s.LastProgress = now;
                    InterruptRentsLocked();
                    if (++s.Stalls >= 2)
                    {
                        close.Add((s, "stalled"));
                    }
                }

                // Only to a connection with nothing queued or being written: behind a stuck send they would pile up.
                s.SendKeepAliveIfIdle(now, keepAlive);

                if (now - s.LastReceived > silence)
                {
                    close.Add((s, "silent for three minutes"));
                }

                _offers?.OnTick(s);

                s.Signal();
            }

            Extensions.Tick(now, _sessions);

            choke = now - _lastChoke > 10 * frequency;
            if (choke)
            {
                _lastChoke = now;
            }
        }

        foreach ((PeerSession s, string reason) in close)
        {
            s.Close(reason);
        }

        if (choke)
        {
            RunChoker();
        }
    }
}
