using System.Net;

namespace BlockTorrent;

/// <summary>
/// One connected peer as a seed or a deployment sees it, in <see cref="SeedProgress.Peers"/>: which pieces it has
/// told us it holds, and the traffic between us. A depot shows each target's progress from these.
/// </summary>
public sealed record PeerProgress
{
    /// <summary>Gets where the peer is: the address it listens on when known (we dialled it, or it told us its port), else the address it dialled us from.</summary>
    public required IPEndPoint EndPoint { get; init; }

    /// <summary>Gets the peer id from its handshake (20 bytes; many clients begin it with their name and version, <c>-BT0100-</c>).</summary>
    public required ReadOnlyMemory<byte> PeerId { get; init; }

    /// <summary>Gets the client name and version from its extended handshake (BEP 10 <c>v</c>), when it sent one.</summary>
    public string? Client { get; init; }

    /// <summary>Gets the number of pieces the peer has announced (bitfield and HAVE messages).</summary>
    public int PiecesHave { get; init; }

    /// <summary>Gets the piece payload received from the peer, in bytes.</summary>
    public long BytesDownloaded { get; init; }

    /// <summary>Gets the piece payload sent to the peer, in bytes.</summary>
    public long BytesUploaded { get; init; }

    /// <summary>Gets the recent rate of piece payload received from the peer, in bytes per second.</summary>
    public double DownloadRate { get; init; }

    /// <summary>Gets the recent rate of piece payload sent to the peer, in bytes per second.</summary>
    public double UploadRate { get; init; }
}
