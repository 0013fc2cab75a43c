using System.Diagnostics.Metrics;

namespace BlockTorrent.Cli.Commands;

/// <summary>
/// Reads the library's traffic counters (the <c>BlockTorrent</c> meter) for a seed, whose call reports no progress
/// of its own: bytes sent and received across the process, and connected peers as the swarm events tell them.
/// </summary>
internal sealed class TrafficCounters : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _uploaded;
    private long _downloaded;
    private long _peers;

    public TrafficCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "BlockTorrent" && instrument.Name is "blocktorrent.bytes.uploaded" or "blocktorrent.bytes.downloaded")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            switch (instrument.Name)
            {
                case "blocktorrent.bytes.uploaded":
                    Interlocked.Add(ref _uploaded, value);
                    break;
                default:
                    Interlocked.Add(ref _downloaded, value);
                    break;
            }
        });
        _listener.Start();
    }

    public long Uploaded => Interlocked.Read(ref _uploaded);

    public long Downloaded => Interlocked.Read(ref _downloaded);

    /// <summary>Gets the connected peers, counted from the swarm events that <see cref="SwarmSupport.WatchAsync"/> forwards.</summary>
    public int Peers => (int)Math.Max(0, Interlocked.Read(ref _peers));

    /// <summary>Counts a peer connecting (+1) or disconnecting (-1).</summary>
    public void AddPeers(int delta) => Interlocked.Add(ref _peers, delta);

    public void Dispose() => _listener.Dispose();
}
