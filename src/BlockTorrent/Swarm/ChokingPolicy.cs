namespace BlockTorrent.Swarm;

/// <summary>How the <see cref="Choker"/> decides which interested peers we upload to (the client maps its public option to it).</summary>
internal enum ChokingPolicy
{
    /// <summary>Unchoke every interested peer, up to the upload slots.</summary>
    UnchokeAll,

    /// <summary>BEP 3 tit-for-tat: the best reciprocating peers plus one rotating optimistic unchoke.</summary>
    TitForTat,
}
