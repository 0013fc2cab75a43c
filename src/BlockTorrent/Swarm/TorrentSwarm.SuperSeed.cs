namespace BlockTorrent.Swarm;

/// <summary>
/// The super-seed's even upload shares (its offers are <see cref="SuperSeedOffers"/>).
/// </summary>
internal sealed partial class TorrentSwarm
{
    /// <summary>
    /// A super-seed's even shares: every <see cref="UploadShares.Interval"/>, each connection's upload is measured and
    /// every connection paced to the cap <see cref="UploadShares.Cap"/> computes from them, unless
    /// <see cref="CapGuard"/> lifts it.
    /// </summary>
    private async Task ShareLoopAsync()
    {
        using var timer = new PeriodicTimer(UploadShares.Interval, Time);
        long last = Time.GetTimestamp();
        UploadShare[] shares = [];
        var guard = default(CapGuard);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                long now = Time.GetTimestamp();
                double seconds = Math.Max(0.001, (now - last) / (double)Time.TimestampFrequency);
                last = now;
                lock (Sync)
                {
                    if (shares.Length < _sessions.Count)
                    {
                        shares = new UploadShare[_sessions.Count * 2];
                    }

                    for (int i = 0; i < _sessions.Count; i++)
                    {
                        shares[i] = _sessions[i].SampleUploadShare(seconds);
                    }

                    double cap = guard.Next(shares.AsSpan(0, _sessions.Count));
                    foreach (PeerSession s in _sessions)
                    {
                        s.SetUploadCap(cap);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }
}
