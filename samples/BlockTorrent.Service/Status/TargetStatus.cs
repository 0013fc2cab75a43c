using System.Text.Json;

namespace BlockTorrent.Service.Status;

/// <summary>What a target shows: where the deployment is, its traffic, and its outcome.</summary>
internal sealed class TargetStatus : StatusEntry
{
    private readonly TransferRate _download;
    private readonly TransferRate _upload;
    private string? _name;
    private string? _infoHash;
    private long _length;
    private DeploymentProgress _progress = new();
    private DeploymentResult? _result;
    private long _seedUploaded;
    private bool _progressReported;

    public TargetStatus(string image, string device, TimeProvider time)
    {
        Image = image;
        Device = device;
        _download = new TransferRate(time);
        _upload = new TransferRate(time);
    }

    public string Image { get; }

    public string Device { get; }

    public void SetManifest(string name, string infoHash, long length, int pieceCount)
    {
        lock (Sync)
        {
            _name = name;
            _infoHash = infoHash;
            _length = length;
            _progress = _progress with { PieceCount = pieceCount };
        }
    }

    public void Report(DeploymentProgress progress)
    {
        lock (Sync)
        {
            _progress = progress;
            _progressReported = true;
            _download.Sample(progress.BytesDownloaded);
            _upload.Sample(progress.BytesUploaded);
        }
    }

    public void Complete(DeploymentResult result)
    {
        lock (Sync)
        {
            _result = result;
            _progress = _progress with { PiecesOnDevice = result.PieceCount, BytesDownloaded = result.BytesDownloaded, BytesUploaded = result.BytesUploaded };
        }
    }

    public void ReportSeeding(SeedProgress progress)
    {
        lock (Sync)
        {
            _seedUploaded = progress.BytesUploaded;
            _progress = _progress with { ConnectedPeers = progress.ConnectedPeers };
            _upload.Sample(_progress.BytesUploaded + _seedUploaded);
        }
    }

    /// <summary>
    /// Makes this target's report to its depot's fleet view (<c>POST /fleet/report</c>), or <see langword="null"/>
    /// while there is nothing to say yet (no peer id, or no manifest). The state is the fleet's word: checking while
    /// the deployment reads the device before the swarm starts (it reports no progress until then), downloading,
    /// seeding, done, failed, stopped.
    /// </summary>
    /// <param name="peerId">This target's peer id in hexadecimal.</param>
    /// <param name="host">This machine's host name.</param>
    public byte[]? ToReport(string? peerId, string host)
    {
        lock (Sync)
        {
            if (peerId is null || _infoHash is null)
            {
                return null;
            }

            string state = StateLocked switch
            {
                "deploying" => _progressReported ? "downloading" : "checking",
                "complete" => "done",
                "seeding" or "failed" or "stopped" => StateLocked,
                _ => "starting",
            };
            bool moving = state is "downloading" or "seeding";
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("peerId", peerId);
                json.WriteString("infoHash", _infoHash);
                json.WriteString("name", _name);
                json.WriteString("host", host);
                json.WriteString("state", state);
                json.WriteNumber("pieceCount", _progress.PieceCount);
                json.WriteNumber("piecesOnDevice", _progress.PiecesOnDevice);
                json.WriteNumber("downloadRate", state == "downloading" ? Math.Round(_download.BytesPerSecond) : 0);
                json.WriteNumber("uploadRate", moving ? Math.Round(_upload.BytesPerSecond) : 0);
                if (_result is { } r)
                {
                    json.WriteNumber("piecesFromPeers", r.PiecesDownloaded);
                    json.WriteNumber("piecesLocal", r.PieceCount - r.PiecesDownloaded);
                }

                if (ErrorLocked is { } error)
                {
                    json.WriteString("error", error);
                }

                json.WriteEndObject();
            }

            return buffer.ToArray();
        }
    }

    public void Write(Utf8JsonWriter json)
    {
        lock (Sync)
        {
            json.WriteStartObject();
            json.WriteString("image", Image);
            json.WriteString("device", Device);
            WriteState(json);

            json.WriteString("name", _name);
            json.WriteString("infoHash", _infoHash);
            json.WriteNumber("length", _length);
            json.WriteNumber("pieceCount", _progress.PieceCount);
            json.WriteNumber("piecesOnDevice", _progress.PiecesOnDevice);
            json.WriteNumber("percent", _progress.PieceCount == 0 ? 0 : Math.Round(100.0 * _progress.PiecesOnDevice / _progress.PieceCount, 1));
            json.WriteNumber("peers", _progress.ConnectedPeers);
            json.WriteNumber("bytesDownloaded", _progress.BytesDownloaded);
            json.WriteNumber("bytesUploaded", _progress.BytesUploaded + _seedUploaded);
            json.WriteNumber("downloadRate", Math.Round(_download.BytesPerSecond));
            json.WriteNumber("uploadRate", Math.Round(_upload.BytesPerSecond));
            if (_result is { } r)
            {
                json.WriteStartObject("result");
                json.WriteNumber("piecesDownloaded", r.PiecesDownloaded);
                json.WriteNumber("piecesAlreadyPresent", r.PiecesAlreadyPresent);
                json.WriteNumber("piecesCopiedLocally", r.PiecesCopiedLocally);
                json.WriteNumber("zeroPieces", r.ZeroPieces);
                json.WriteNumber("duplicatePieces", r.DuplicatePieces);
                json.WriteNumber("bytesSatisfiedLocally", r.BytesSatisfiedLocally);
                json.WriteNumber("hashFailures", r.HashFailures);
                json.WriteNumber("seconds", Math.Round(r.Duration.TotalSeconds, 3));
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }
    }
}
