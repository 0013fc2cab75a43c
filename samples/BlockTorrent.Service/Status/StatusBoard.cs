using System.Collections.Concurrent;
using System.Text.Json;
using BlockTorrent.Service.Options;

namespace BlockTorrent.Service.Status;

/// <summary>
/// The service's state as the status endpoint shows it (<c>GET /status</c>): the role, the peer and tracker
/// addresses, and the depot's images or the target's deployment. The role services write it; the endpoint reads it.
/// </summary>
internal sealed class StatusBoard
{
    private readonly ConcurrentDictionary<string, ImageStatus> _images = new(StringComparer.Ordinal);
    private readonly DateTimeOffset _started;

    public StatusBoard(TimeProvider time)
    {
        Time = time;
        _started = time.GetUtcNow();
    }

    public TimeProvider Time { get; }

    /// <summary>Gets or sets the process exit code: 0, or 1 once a role has failed.</summary>
    public int ExitCode { get; set; }

    public ServiceRole Role { get; set; }

    /// <summary>Gets or sets where peers connect, once the client listens.</summary>
    public string? PeerEndPoint { get; set; }

    /// <summary>Gets or sets this machine's peer id in hexadecimal, once the client runs (a target reports it to its depot).</summary>
    public string? PeerId { get; set; }

    /// <summary>Gets or sets the embedded tracker's announce URL (depot).</summary>
    public Uri? TrackerAnnounce { get; set; }

    /// <summary>Gets or sets the deployment (target).</summary>
    public TargetStatus? Target { get; set; }

    public IEnumerable<ImageStatus> Images => _images.Values;

    public void AddImage(ImageStatus image) => _images[image.Name] = image;

    public void RemoveImage(string name) => _images.TryRemove(name, out _);

    public bool TryGetImage(string name, out ImageStatus? image) => _images.TryGetValue(name, out image);

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("role", Role.ToString().ToLowerInvariant());
            json.WriteString("started", _started);
            json.WriteString("peerEndPoint", PeerEndPoint);
            if (TrackerAnnounce is not null)
            {
                json.WriteString("tracker", TrackerAnnounce.ToString());
            }

            if (Role == ServiceRole.Depot)
            {
                json.WriteStartArray("images");
                foreach (ImageStatus image in _images.Values.OrderBy(i => i.Name, StringComparer.Ordinal))
                {
                    image.Write(json);
                }

                json.WriteEndArray();
            }

            if (Target is { } target)
            {
                json.WritePropertyName("target");
                target.Write(json);
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
