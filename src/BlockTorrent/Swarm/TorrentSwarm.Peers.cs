namespace BlockTorrent.Swarm;

/// <summary>The connected peers as the public progress reports show them.</summary>
internal sealed partial class TorrentSwarm
{
    /// <summary>Takes a snapshot of every connected peer: where it is, what it has, the traffic with it.</summary>
    /// <returns>One entry per open connection.</returns>
    public PeerProgress[] SnapshotPeers()
    {
        lock (Sync)
        {
            var peers = new PeerProgress[_sessions.Count];
            for (int i = 0; i < peers.Length; i++)
            {
                PeerSession s = _sessions[i];
                peers[i] = new PeerProgress
                {
                    EndPoint = s.ListenEndPoint ?? s.Remote,
                    PeerId = s.PeerId,
                    Client = s.RemoteExtensions?.Client,
                    PiecesHave = s.Pick.Has.Count,
                    BytesDownloaded = s.Downloaded,
                    BytesUploaded = s.Uploaded,
                    DownloadRate = s.DownloadRate,
                    UploadRate = s.UploadRate,
                };
            }

            return peers;
        }
    }
}
