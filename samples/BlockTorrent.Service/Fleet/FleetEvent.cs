namespace BlockTorrent.Service.Fleet;

/// <summary>
/// Something the fleet view sends out: <c>fleet</c> (the whole table, every second, to the event stream only), or an
/// event a provisioning system hooks: <c>target-done</c>, <c>target-failed</c>, <c>image-deployed</c> (also posted
/// to the webhooks).
/// </summary>
/// <param name="Id">A number that grows with each event of this depot run.</param>
/// <param name="Kind">The event's name (the SSE <c>event:</c> field).</param>
/// <param name="Json">The event as UTF-8 JSON, on one line.</param>
internal sealed record FleetEvent(long Id, string Kind, byte[] Json)
{
    public const string Snapshot = "fleet";
    public const string TargetDone = "target-done";
    public const string TargetFailed = "target-failed";
    public const string ImageDeployed = "image-deployed";

    /// <summary>Gets a value indicating whether the event is one a provisioning system hooks (not a table snapshot).</summary>
    public bool IsHook => Kind != Snapshot;
}
