namespace BlockTorrent.Swarm;

/// <summary>What the <see cref="Choker"/> reads and decides about one peer.</summary>
internal interface IChokeable
{
    /// <summary>Gets a value indicating whether the peer wants to download from us.</summary>
    bool IsInterested { get; }

    /// <summary>Gets the rate the peer sends us payload at, in bytes per second.</summary>
    double DownloadRate { get; }

    /// <summary>Gets the rate we send the peer payload at, in bytes per second.</summary>
    double UploadRate { get; }

    /// <summary>Gets or sets the decision: whether we unchoke the peer.</summary>
    bool Unchoked { get; set; }
}
