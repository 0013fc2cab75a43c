namespace BlockTorrent.Discovery;

/// <summary>The action codes of the UDP tracker protocol (BEP 15), as sent on the wire.</summary>
internal enum UdpTrackerAction
{
    /// <summary>Obtain a connection id.</summary>
    Connect = 0,

    /// <summary>Announce.</summary>
    Announce = 1,

    /// <summary>Scrape.</summary>
    Scrape = 2,

    /// <summary>The tracker refused; a message follows.</summary>
    Error = 3,
}
