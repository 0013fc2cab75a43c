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
