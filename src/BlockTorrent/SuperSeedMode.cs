namespace BlockTorrent;

/// <summary>How a seed announces its pieces (<see cref="SeedOptions.SuperSeeding"/>).</summary>
public enum SuperSeedMode
{
    /// <summary>
    /// Super-seed each peer while its pieces are being passed on to the others, and serve it as a plain seed once
    /// they are not: a peer none of whose last few pieces reached another peer within three seconds (it is alone, or
    /// it and the others cannot reach one another) is told every piece and requests freely. The default.
    /// </summary>
    Adaptive = 0,

    /// <summary>Always super-seed (BEP 16), whether or not the peers pass pieces on.</summary>
    Always = 1,

    /// <summary>Never super-seed: announce every piece to every peer (a plain seed's bitfield).</summary>
    Never = 2,
}
