namespace BlockTorrent.Wire;

/// <summary>What a BEP 11 ut_pex message says about an added peer (<c>added.f</c>).</summary>
[Flags]
internal enum PexFlags : byte
{
    /// <summary>Nothing known.</summary>
    None = 0,

    /// <summary>The peer prefers encryption.</summary>
    PrefersEncryption = 0x01,

    /// <summary>The peer is a seed or only uploads.</summary>
    Seed = 0x02,

    /// <summary>The peer supports uTP.</summary>
    Utp = 0x04,

    /// <summary>The peer supports the ut_holepunch extension.</summary>
    Holepunch = 0x08,

    /// <summary>The peer is reachable (the sender connected to it, not the other way round).</summary>
    Reachable = 0x10,
}
