using System.Net;

namespace BlockTorrent.Wire;

/// <summary>A peer named in a BEP 11 ut_pex message.</summary>
/// <param name="EndPoint">Its address and port.</param>
/// <param name="Flags">What the sender knows about it (added peers only).</param>
internal readonly record struct PexPeer(IPEndPoint EndPoint, PexFlags Flags);
