namespace BlockTorrent.Discovery;

/// <summary>
/// Which peer sources a torrent may use. A private torrent (BEP 27: <c>private=1</c> in the info dictionary) gets
/// peers only from its trackers and from addresses the user gave: no Local Service Discovery, no peer exchange,
/// no DHT. The swarm asks this before starting a source or accepting PEX messages.
/// </summary>
/// <param name="AllowsLocalDiscovery">Whether LSD (BEP 14) may announce and report peers for the torrent.</param>
/// <param name="AllowsPeerExchange">Whether PEX (BEP 11) may be sent or taken for the torrent.</param>
internal readonly record struct DiscoveryPolicy(bool AllowsLocalDiscovery, bool AllowsPeerExchange)
{
    /// <summary>Gets the policy of a torrent.</summary>
    /// <param name="isPrivate">Whether the torrent is private (BEP 27).</param>
    /// <param name="localDiscoveryEnabled">Whether the user enabled LSD at all.</param>
    /// <param name="peerExchangeEnabled">Whether the user enabled PEX at all.</param>
    /// <returns>The policy.</returns>
    public static DiscoveryPolicy For(bool isPrivate, bool localDiscoveryEnabled = true, bool peerExchangeEnabled = true) =>
        new(!isPrivate && localDiscoveryEnabled, !isPrivate && peerExchangeEnabled);
}
