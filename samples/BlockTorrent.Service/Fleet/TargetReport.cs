using System.Text.Json;

namespace BlockTorrent.Service.Fleet;

/// <summary>
/// What a target service tells its depot about itself (<c>POST /fleet/report</c>, JSON): which image and which peer
/// it is, its host name, its state and progress, and where its pieces came from once it knows.
/// </summary>
internal sealed record TargetReport
{
    /// <summary>The largest report accepted, in bytes.</summary>
    public const int MaxLength = 16 * 1024;

    public required string PeerId { get; init; }

    public required string InfoHash { get; init; }

    public string? Name { get; init; }

    public string? Host { get; init; }

    /// <summary>Gets the state: starting, checking, downloading, seeding, done, failed or stopped.</summary>
    public required string State { get; init; }

    public int PieceCount { get; init; }

    public int PiecesOnDevice { get; init; }

    public double DownloadRate { get; init; }

    public double UploadRate { get; init; }

    public int? PiecesFromPeers { get; init; }

    public int? PiecesLocal { get; init; }

    public string? Error { get; init; }

    /// <summary>Gets a value indicating whether the target will send no more (it finished, failed or stopped).</summary>
    public bool IsFinal => State is "done" or "failed" or "stopped";

    private static readonly HashSet<string> States = new(StringComparer.Ordinal) { "starting", "checking", "downloading", "seeding", "done", "failed", "stopped" };

    /// <summary>Reads a report; <see langword="null"/> when it is not one (malformed, or missing the peer, the image or a known state).</summary>
    public static TargetReport? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 4 });
            JsonElement r = document.RootElement;
            if (r.ValueKind != JsonValueKind.Object
                || Text(r, "peerId") is not { Length: > 0 and <= 64 } peerId || !IsHex(peerId)
                || Text(r, "infoHash") is not { Length: 40 or 64 } infoHash || !IsHex(infoHash)
                || Text(r, "state") is not { } state || !States.Contains(state))
            {
                return null;
            }

            return new TargetReport
            {
                PeerId = peerId.ToLowerInvariant(),
                InfoHash = infoHash.ToLowerInvariant(),
                Name = Limit(Text(r, "name")),
                Host = Limit(Text(r, "host")),
                State = state,
                PieceCount = Int(r, "pieceCount") ?? 0,
                PiecesOnDevice = Int(r, "piecesOnDevice") ?? 0,
                DownloadRate = Number(r, "downloadRate"),
                UploadRate = Number(r, "uploadRate"),
                PiecesFromPeers = Int(r, "piecesFromPeers"),
                PiecesLocal = Int(r, "piecesLocal"),
                Error = Limit(Text(r, "error"), 1024),
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement r, string name) => r.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement r, string name) => r.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i >= 0 ? i : null;

    private static double Number(JsonElement r, string name) => r.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d >= 0 && double.IsFinite(d) ? d : 0;

    private static string? Limit(string? text, int length = 255) => text is null ? null : text.Length <= length ? text : text[..length];

    private static bool IsHex(string text) => text.AsSpan().ContainsAnyExcept("0123456789abcdefABCDEF") is false;
}
