using System.Text.Json;

namespace BlockTorrent.Service.Fleet;

/// <summary>
/// One target of one image as the depot knows it: from its connection to the depot (the pieces it has announced, the
/// depot's traffic with it) and, when the target is this service, from the reports it sends (its host name, its
/// check, its total rates, where its pieces came from, its error). Guarded by the board's lock.
/// </summary>
internal sealed class FleetRow(string infoHash, string peerId)
{
    /// <summary>How long a report stands for the target's state once it stops coming: after that the depot's own view takes over.</summary>
    public static readonly TimeSpan ReportLifetime = TimeSpan.FromSeconds(10);

    public string InfoHash { get; } = infoHash;

    public string PeerId { get; } = peerId;

    public string Image { get; set; } = string.Empty;

    public string? Address { get; set; }

    public int? Port { get; set; }

    public string? Client { get; set; }

    public int PieceCount { get; set; }

    public long Length { get; set; }

    /// <summary>Gets or sets a value indicating whether the target is connected to the depot now.</summary>
    public bool Connected { get; set; }

    /// <summary>Gets or sets the pieces the target has announced to the depot.</summary>
    public int SwarmPieces { get; set; }

    /// <summary>Gets or sets the depot's upload rate to the target (its download from the depot).</summary>
    public double SwarmDownloadRate { get; set; }

    /// <summary>Gets or sets the depot's download rate from the target.</summary>
    public double SwarmUploadRate { get; set; }

    /// <summary>Gets or sets a value indicating whether the depot saw the target without the whole image (so it is a target, not another seed).</summary>
    public bool SeenIncomplete { get; set; }

    public TargetReport? Report { get; set; }

    /// <summary>Gets or sets when the last report arrived (a <see cref="TimeProvider"/> timestamp).</summary>
    public long ReportedAt { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    /// <summary>Gets or sets the state last seen by the events: a change into done or failed is announced once.</summary>
    public string AnnouncedState { get; set; } = string.Empty;

    /// <summary>Gets the row as shown: the target's own fresh report where there is one, else what the depot sees.</summary>
    public FleetView View(TimeProvider time)
    {
        TargetReport? report = Report;
        bool fresh = report is not null && (report.IsFinal || time.GetElapsedTime(ReportedAt) < ReportLifetime);
        if (fresh)
        {
            int pieces = Math.Max(report!.PiecesOnDevice, 0);
            return new FleetView(report.State, Percent(pieces, report.PieceCount), pieces, report.PieceCount, report.DownloadRate, report.UploadRate, report.Error, report.PiecesFromPeers, report.PiecesLocal);
        }

        bool complete = PieceCount > 0 && SwarmPieces >= PieceCount;
        string state = complete ? (Connected ? "seeding" : "done") : (report?.State is "failed" ? "failed" : "downloading");
        return new FleetView(state, Percent(SwarmPieces, PieceCount), SwarmPieces, PieceCount, Connected ? SwarmDownloadRate : 0, Connected ? SwarmUploadRate : 0, report?.Error, report?.PiecesFromPeers, report?.PiecesLocal);
    }

    public void Write(Utf8JsonWriter json, TimeProvider time)
    {
        FleetView view = View(time);
        json.WriteStartObject();
        json.WriteString("image", Image);
        json.WriteString("infoHash", InfoHash);
        json.WriteString("peerId", PeerId);
        json.WriteString("address", Address);
        if (Port is int port)
        {
            json.WriteNumber("port", port);
        }

        json.WriteString("host", Report?.Host);
        json.WriteString("client", Client);
        json.WriteString("state", view.State);
        json.WriteNumber("percent", Math.Round(view.Percent, 1));
        json.WriteNumber("pieces", view.Pieces);
        json.WriteNumber("pieceCount", view.PieceCount);
        json.WriteNumber("downloadRate", Math.Round(view.DownloadRate));
        json.WriteNumber("uploadRate", Math.Round(view.UploadRate));
        double? eta = Eta(view);
        if (eta is double seconds)
        {
            json.WriteNumber("etaSeconds", Math.Round(seconds));
        }
        else
        {
            json.WriteNull("etaSeconds");
        }

        WriteOptional(json, "piecesFromPeers", view.PiecesFromPeers);
        WriteOptional(json, "piecesLocal", view.PiecesLocal);
        json.WriteString("error", view.Error);
        json.WriteBoolean("connected", Connected);
        json.WriteBoolean("reporting", Report is not null);
        json.WriteString("lastSeen", LastSeen);
        json.WriteEndObject();
    }

    private static double Percent(int pieces, int pieceCount) => pieceCount == 0 ? 0 : 100.0 * pieces / pieceCount;

    private static void WriteOptional(Utf8JsonWriter json, string name, int? value)
    {
        if (value is int v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    /// <summary>The time left at the current rate: the bytes of the missing pieces over the download rate; none while nothing moves.</summary>
    private double? Eta(FleetView view)
    {
        if (view.State is not ("downloading" or "checking") || view.DownloadRate <= 0 || view.PieceCount == 0)
        {
            return null;
        }

        double missing = (double)Length * (view.PieceCount - view.Pieces) / view.PieceCount;
        return missing / view.DownloadRate;
    }
}
