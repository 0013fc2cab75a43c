using System.Threading.Channels;

namespace BlockTorrent.Service.Fleet;

/// <summary>
/// One reader of the fleet's events (an event stream client, or the webhooks). A reader that falls behind loses the
/// oldest table snapshots, never blocks the board; disposing it stops the delivery.
/// </summary>
internal sealed class FleetSubscription : IDisposable
{
    private readonly Action<FleetSubscription> _unsubscribe;
    private readonly Channel<FleetEvent> _channel;

    public FleetSubscription(bool snapshots, Action<FleetSubscription> unsubscribe)
    {
        Snapshots = snapshots;
        _unsubscribe = unsubscribe;

        // Hooks must not be lost: a reader that only takes hooks (the webhooks) gets them all; a browser that stops
        // reading loses the oldest once a thousand wait.
        _channel = snapshots
            ? Channel.CreateBounded<FleetEvent>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true })
            : Channel.CreateUnbounded<FleetEvent>(new UnboundedChannelOptions { SingleReader = true });
    }

    /// <summary>Gets a value indicating whether the reader wants the table snapshots too.</summary>
    public bool Snapshots { get; }

    public ChannelReader<FleetEvent> Reader => _channel.Reader;

    public void Deliver(FleetEvent fleetEvent)
    {
        if (Snapshots || fleetEvent.IsHook)
        {
            _channel.Writer.TryWrite(fleetEvent);
        }
    }

    public void Dispose()
    {
        _unsubscribe(this);
        _channel.Writer.TryComplete();
    }
}
