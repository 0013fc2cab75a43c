using System.Text.Json;
using BlockTorrent.Cli.Console;

namespace BlockTorrent.Cli.Progress;

/// <summary>
/// Machine-readable events, one JSON object per line (JSON Lines): <c>progress</c> at most once per interval,
/// <c>event</c> for notable events, and <c>complete</c> at the end. Every object has an <c>event</c> property and
/// a <c>time</c> (ISO 8601, UTC).
/// </summary>
internal sealed class JsonProgressView : IProgressView
{
    private readonly TextWriter _out;
    private readonly UpdateThrottle _throttle;
    private readonly string _label;

    public JsonProgressView(TextWriter output, string label, TimeSpan interval, TimeProvider? time = null)
    {
        _out = output;
        _label = label;
        _throttle = new UpdateThrottle(interval, time);
    }

    public void Update(TransferSnapshot snapshot)
    {
        if (!_throttle.TryPass())
        {
            return;
        }

        Write("progress", w => WriteSnapshot(w, snapshot));
    }

    public void Event(string kind, string text) => Write("event", w =>
    {
        w.WriteString("kind", kind);
        w.WriteString("message", text);
    });

    public void Complete(TransferSnapshot snapshot, string summary) => Write("complete", w =>
    {
        WriteSnapshot(w, snapshot);
        w.WriteString("message", summary);
    });

    /// <summary>Writes one JSON line with the common properties and whatever <paramref name="body"/> adds.</summary>
    public static void WriteLine(TextWriter output, string eventName, string label, DateTimeOffset time, Action<Utf8JsonWriter> body)
    {
        JsonText.WriteLine(output, w =>
        {
            w.WriteStartObject();
            w.WriteString("event", eventName);
            w.WriteString("time", time.UtcDateTime);
            w.WriteString("command", label);
            body(w);
            w.WriteEndObject();
        });
    }

    private static void WriteSnapshot(Utf8JsonWriter w, TransferSnapshot s)
    {
        w.WriteString("state", s.State);
        w.WriteNumber("totalBytes", s.TotalBytes);
        w.WriteNumber("completedBytes", s.CompletedBytes);
        w.WriteNumber("fraction", Math.Round(s.Fraction, 4));
        w.WriteNumber("totalPieces", s.TotalPieces);
        w.WriteNumber("piecesFromPeers", s.PiecesFromPeers);
        w.WriteNumber("piecesLocal", s.PiecesLocal);
        w.WriteNumber("downloadRate", Math.Round(s.DownloadRate));
        w.WriteNumber("uploadRate", Math.Round(s.UploadRate));
        w.WriteNumber("downloaded", s.Downloaded);
        w.WriteNumber("uploaded", s.Uploaded);
        w.WriteNumber("peers", s.Peers);
        if (s.Eta is TimeSpan eta)
        {
            w.WriteNumber("etaSeconds", Math.Round(eta.TotalSeconds, 1));
        }
        else
        {
            w.WriteNull("etaSeconds");
        }
    }

    private void Write(string eventName, Action<Utf8JsonWriter> body) => WriteLine(_out, eventName, _label, _throttle.Time.GetUtcNow(), body);
}
