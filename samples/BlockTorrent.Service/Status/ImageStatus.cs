using System.Text.Json;

namespace BlockTorrent.Service.Status;

/// <summary>What the depot shows about one image: its manifest, whether it is served, and the traffic it serves.</summary>
internal sealed class ImageStatus : StatusEntry
{
    private readonly TransferRate _upload;
    private string? _infoHash;
    private long _length;
    private int _pieceCount;
    private SeedProgress _progress = new();

    public ImageStatus(string name, string imagePath, string manifestPath, TimeProvider time)
    {
        Name = name;
        ImagePath = imagePath;
        ManifestPath = manifestPath;
        _upload = new TransferRate(time);
    }

    public string Name { get; }

    public string ImagePath { get; }

    public string ManifestPath { get; }

    /// <summary>Gets a value indicating whether the image's manifest is known (it is being seeded).</summary>
    public bool HasManifest
    {
        get
        {
            lock (Sync)
            {
                return _infoHash is not null;
            }
        }
    }

    /// <summary>Gets the upload caps the image's web seed obeys, shared with its seed; set with the manifest.</summary>
    public UploadLimiter? UploadLimiter { get; private set; }

    /// <summary>Gets a value indicating whether the image's manifest is a TLS swarm (names a swarm authority): its bytes then go to the authority's peers only, never to the web seed's anonymous clients.</summary>
    public bool IsTlsSwarm { get; private set; }

    public void SetManifest(string infoHash, long length, int pieceCount, UploadLimiter? uploadLimiter = null, bool tlsSwarm = false)
    {
        lock (Sync)
        {
            UploadLimiter = uploadLimiter;
            IsTlsSwarm = tlsSwarm;
            _infoHash = infoHash;
            _length = length;
            _pieceCount = pieceCount;
        }
    }

    public void Report(SeedProgress progress)
    {
        lock (Sync)
        {
            _progress = progress;
            _upload.Sample(progress.BytesUploaded);
        }
    }

    public void Write(Utf8JsonWriter json)
    {
        lock (Sync)
        {
            json.WriteStartObject();
            json.WriteString("name", Name);
            WriteState(json);

            json.WriteString("manifest", Path.GetFileName(ManifestPath));
            json.WriteString("infoHash", _infoHash);
            json.WriteNumber("length", _length);
            json.WriteNumber("pieceCount", _pieceCount);
            json.WriteNumber("peers", _progress.ConnectedPeers);
            json.WriteNumber("peersSeen", _progress.PeersSeen);
            json.WriteNumber("bytesServed", _progress.BytesUploaded);
            json.WriteNumber("uploadRate", Math.Round(_upload.BytesPerSecond));
            json.WriteEndObject();
        }
    }
}
