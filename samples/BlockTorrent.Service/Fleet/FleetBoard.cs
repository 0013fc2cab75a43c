using System.Net;
using System.Text.Json;
using BlockTorrent.Service.Options;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Fleet;

/// <summary>
/// The depot's view of its fleet: a row per target of each image it serves (<see cref="FleetRow"/>), fed by its
/// seeds' progress (the peers connected to it and the pieces they announced) and by the reports of target services
/// (<c>POST /fleet/report</c>). It keeps the swarm's total rate over the last minutes, and sends out events
/// (<see cref="FleetEvent"/>) to its subscribers: the event stream's clients and the webhooks.
/// </summary>
/// <remarks>
/// A target is announced done once, when it gets the whole image after the depot saw it without (or heard from it
/// while it was underway); a peer that holds the whole image from the first time the depot sees it and never reports
/// (another seed, or a target that already had the image) is shown but counts for no event. An image is deployed
/// when none of its targets is still underway and at least <see cref="DepotOptions.FleetSize"/> (at least one) are
/// done; it is announced again after a target of it starts over.
/// </remarks>
internal sealed class FleetBoard
{
    /// <summary>How many rate samples the chart keeps: ten minutes at one a second.</summary>
    public const int HistoryLength = 600;

    private const int MaxRows = 10_000;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, FleetRow> _rows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Name, int PieceCount, long Length)> _images = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deployed = new(StringComparer.Ordinal);
    private readonly List<FleetSubscription> _subscribers = [];
    private readonly Queue<(DateTimeOffset Time, double Rate)> _history = new();
    private readonly TimeProvider _time;
    private readonly int _fleetSize;
    private long _nextId;

    public FleetBoard(TimeProvider time, IOptions<ImagingServiceOptions> options)
    {
        _time = time;
        _fleetSize = Math.Max(1, options.Value.Depot.FleetSize);
    }

    /// <summary>Makes an image known (the depot serves it), so rows of its targets carry its name and size.</summary>
    public void AddImage(string infoHash, string name, int pieceCount, long length)
    {
        lock (_sync)
        {
            _images[infoHash] = (name, pieceCount, length);
        }
    }

    /// <summary>Takes in a seed's progress report: the peers connected to the depot for that image.</summary>
    public void Observe(string infoHash, SeedProgress progress)
    {
        lock (_sync)
        {
            var connected = new HashSet<string>(StringComparer.Ordinal);
            foreach (PeerProgress peer in progress.Peers)
            {
                string peerId = Convert.ToHexStringLower(peer.PeerId.Span);
                connected.Add(peerId);
                FleetRow row = RowLocked(infoHash, peerId);
                row.Address = Unmapped(peer.EndPoint.Address).ToString();
                row.Port = peer.EndPoint.Port;
                row.Client = peer.Client;
                row.Connected = true;
                row.SwarmPieces = peer.PiecesHave;
                row.SwarmDownloadRate = peer.UploadRate;
                row.SwarmUploadRate = peer.DownloadRate;
                row.SeenIncomplete |= row.PieceCount > 0 && peer.PiecesHave < row.PieceCount;
                row.LastSeen = _time.GetUtcNow();
                CheckLocked(row);
            }

            foreach (FleetRow row in _rows.Values)
            {
                if (row.InfoHash == infoHash && row.Connected && !connected.Contains(row.PeerId))
                {
                    row.Connected = false;
                    CheckLocked(row);
                }
            }
        }
    }

    /// <summary>Takes in a target service's report, sent from <paramref name="from"/>.</summary>
    /// <returns><see langword="false"/> when the report is about an image this depot does not serve (it is dropped).</returns>
    public bool Report(TargetReport report, IPAddress? from)
    {
        lock (_sync)
        {
            if (!_images.ContainsKey(report.InfoHash))
            {
                return false;
            }

            FleetRow row = RowLocked(report.InfoHash, report.PeerId);
            row.Report = report;
            row.ReportedAt = _time.GetTimestamp();
            row.LastSeen = _time.GetUtcNow();
            row.Address ??= from is null ? null : Unmapped(from).ToString();
            if (row.PieceCount == 0)
            {
                row.PieceCount = report.PieceCount;
            }

            if (string.IsNullOrEmpty(row.Image))
            {
                row.Image = report.Name ?? string.Empty;
            }

            CheckLocked(row);
            return true;
        }
    }

    /// <summary>Samples the swarm's total rate, looks again at rows whose report went stale, and sends the table to the event stream.</summary>
    public void Tick()
    {
        lock (_sync)
        {
            double total = 0;
            foreach (FleetRow row in _rows.Values)
            {
                total += row.View(_time).DownloadRate;
                CheckLocked(row);
            }

            _history.Enqueue((_time.GetUtcNow(), total));
            while (_history.Count > HistoryLength)
            {
                _history.Dequeue();
            }

            PublishLocked(FleetEvent.Snapshot, json => WriteLocked(json, history: false));
        }
    }

    /// <summary>Starts delivering events to a new reader; dispose the subscription to stop.</summary>
    /// <param name="snapshots">Whether the reader wants the table every second too (the event stream), or only the hooks (the webhooks).</param>
    public FleetSubscription Subscribe(bool snapshots)
    {
        var subscription = new FleetSubscription(snapshots, s =>
        {
            lock (_sync)
            {
                _subscribers.Remove(s);
            }
        });
        lock (_sync)
        {
            _subscribers.Add(subscription);
            if (snapshots)
            {
                // The first message holds the chart's history, so a page opened late shows the minutes before.
                subscription.Deliver(new FleetEvent(_nextId, FleetEvent.Snapshot, Serialize(json => WriteLocked(json, history: true))));
            }
        }

        return subscription;
    }

    /// <summary>Gets the whole view as JSON (<c>GET /fleet</c>): the images, a row per target, and the rate history.</summary>
    public byte[] ToJson()
    {
        lock (_sync)
        {
            return Serialize(json => WriteLocked(json, history: true), indented: true);
        }
    }

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static byte[] Serialize(Action<Utf8JsonWriter> write, bool indented = false)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            write(json);
        }

        return buffer.ToArray();
    }

    private FleetRow RowLocked(string infoHash, string peerId)
    {
        string key = infoHash + "/" + peerId;
        if (!_rows.TryGetValue(key, out FleetRow? row))
        {
            if (_rows.Count >= MaxRows)
            {
                FleetRow oldest = _rows.Values.MinBy(r => r.LastSeen)!;
                _rows.Remove(oldest.InfoHash + "/" + oldest.PeerId);
            }

            row = new FleetRow(infoHash, peerId);
            if (_images.TryGetValue(infoHash, out var image))
            {
                (row.Image, row.PieceCount, row.Length) = image;
            }

            _rows.Add(key, row);
        }

        return row;
    }

    /// <summary>Announces a row's change into done or failed, and its image's deployment once none of its targets is underway.</summary>
    private void CheckLocked(FleetRow row)
    {
        // A peer not (yet) known to be a target keeps no announced state, so that once it reports, its change into
        // done counts even when the depot saw it holding every piece before.
        bool isTarget = row.Report is not null || row.SeenIncomplete;
        FleetView view = row.View(_time);
        if (!isTarget || view.State == row.AnnouncedState)
        {
            return;
        }

        bool wasComplete = row.AnnouncedState is "done" or "seeding";
        row.AnnouncedState = view.State;
        if (view.IsComplete && !wasComplete)
        {
            PublishLocked(FleetEvent.TargetDone, json => WriteTargetEvent(json, FleetEvent.TargetDone, row));
        }
        else if (view.State == "failed")
        {
            PublishLocked(FleetEvent.TargetFailed, json => WriteTargetEvent(json, FleetEvent.TargetFailed, row));
        }

        if (view.IsUnderway)
        {
            _deployed.Remove(row.InfoHash);
            return;
        }

        List<FleetView> targets = [.. _rows.Values.Where(r => r.InfoHash == row.InfoHash && (r.Report is not null || r.SeenIncomplete)).Select(r => r.View(_time))];
        if (targets.All(t => !t.IsUnderway) && targets.Count(t => t.IsComplete) >= _fleetSize && _deployed.Add(row.InfoHash))
        {
            PublishLocked(FleetEvent.ImageDeployed, json =>
            {
                json.WriteStartObject();
                WriteEventHeader(json, FleetEvent.ImageDeployed);
                json.WriteString("image", row.Image);
                json.WriteString("infoHash", row.InfoHash);
                json.WriteNumber("targets", targets.Count);
                json.WriteNumber("done", targets.Count(t => t.IsComplete));
                json.WriteNumber("failed", targets.Count(t => t.State == "failed"));
                json.WriteEndObject();
            });
        }
    }

    private void WriteTargetEvent(Utf8JsonWriter json, string kind, FleetRow row)
    {
        json.WriteStartObject();
        WriteEventHeader(json, kind);
        json.WritePropertyName("target");
        row.Write(json, _time);
        json.WriteEndObject();
    }

    private void WriteEventHeader(Utf8JsonWriter json, string kind)
    {
        json.WriteNumber("id", _nextId);
        json.WriteString("type", kind);
        json.WriteString("time", _time.GetUtcNow());
    }

    private void PublishLocked(string kind, Action<Utf8JsonWriter> write)
    {
        _nextId++;
        var fleetEvent = new FleetEvent(_nextId, kind, Serialize(write));
        foreach (FleetSubscription subscriber in _subscribers)
        {
            subscriber.Deliver(fleetEvent);
        }
    }

    private void WriteLocked(Utf8JsonWriter json, bool history)
    {
        json.WriteStartObject();
        json.WriteString("time", _time.GetUtcNow());
        json.WriteNumber("totalDownloadRate", Math.Round(_history.Count == 0 ? 0 : _history.Last().Rate));
        json.WriteStartArray("images");
        foreach ((string infoHash, (string name, int pieceCount, long length)) in _images.OrderBy(i => i.Value.Name, StringComparer.Ordinal))
        {
            List<FleetView> targets = [.. _rows.Values.Where(r => r.InfoHash == infoHash && (r.Report is not null || r.SeenIncomplete)).Select(r => r.View(_time))];
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteString("infoHash", infoHash);
            json.WriteNumber("pieceCount", pieceCount);
            json.WriteNumber("length", length);
            json.WriteNumber("targets", targets.Count);
            json.WriteNumber("done", targets.Count(t => t.IsComplete));
            json.WriteNumber("failed", targets.Count(t => t.State == "failed"));
            json.WriteBoolean("deployed", _deployed.Contains(infoHash));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("targets");
        foreach (FleetRow row in _rows.Values.OrderBy(r => r.Image, StringComparer.Ordinal).ThenBy(r => r.Report?.Host ?? r.Address, StringComparer.Ordinal).ThenBy(r => r.PeerId, StringComparer.Ordinal))
        {
            row.Write(json, _time);
        }

        json.WriteEndArray();
        if (history)
        {
            // [unix milliseconds, bytes per second] pairs, oldest first.
            json.WriteStartArray("history");
            foreach ((DateTimeOffset time, double rate) in _history)
            {
                json.WriteStartArray();
                json.WriteNumberValue(time.ToUnixTimeMilliseconds());
                json.WriteNumberValue(Math.Round(rate));
                json.WriteEndArray();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }
}
