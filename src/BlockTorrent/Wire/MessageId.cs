namespace BlockTorrent.Wire;

/// <summary>
/// The message id byte that follows a peer wire message's length prefix, exactly as it travels.
/// A keep-alive has no id (its length is 0) and is reported as <see cref="WireReadStatus.KeepAlive"/>.
/// </summary>
internal enum MessageId : byte
{
    /// <summary>BEP 3 choke: <c>&lt;len=1&gt;&lt;0&gt;</c>.</summary>
    Choke = 0,

    /// <summary>BEP 3 unchoke: <c>&lt;len=1&gt;&lt;1&gt;</c>.</summary>
    Unchoke = 1,

    /// <summary>BEP 3 interested: <c>&lt;len=1&gt;&lt;2&gt;</c>.</summary>
    Interested = 2,

    /// <summary>BEP 3 not interested: <c>&lt;len=1&gt;&lt;3&gt;</c>.</summary>
    NotInterested = 3,

    /// <summary>BEP 3 have: <c>&lt;len=5&gt;&lt;4&gt;&lt;piece&gt;</c>.</summary>
    Have = 4,

    /// <summary>BEP 3 bitfield: <c>&lt;len=1+X&gt;&lt;5&gt;&lt;bits&gt;</c>, high bit of byte 0 is piece 0.</summary>
    Bitfield = 5,

    /// <summary>BEP 3 request: <c>&lt;len=13&gt;&lt;6&gt;&lt;piece&gt;&lt;begin&gt;&lt;length&gt;</c>.</summary>
    Request = 6,

    /// <summary>BEP 3 piece: <c>&lt;len=9+X&gt;&lt;7&gt;&lt;piece&gt;&lt;begin&gt;&lt;block&gt;</c>.</summary>
    Piece = 7,

    /// <summary>BEP 3 cancel: <c>&lt;len=13&gt;&lt;8&gt;&lt;piece&gt;&lt;begin&gt;&lt;length&gt;</c>.</summary>
    Cancel = 8,

    /// <summary>BEP 5 port: <c>&lt;len=3&gt;&lt;9&gt;&lt;listen-port&gt;</c> (the DHT port).</summary>
    Port = 9,

    /// <summary>BEP 6 suggest piece: <c>&lt;len=5&gt;&lt;13&gt;&lt;piece&gt;</c>.</summary>
    SuggestPiece = 13,

    /// <summary>BEP 6 have all: <c>&lt;len=1&gt;&lt;14&gt;</c>.</summary>
    HaveAll = 14,

    /// <summary>BEP 6 have none: <c>&lt;len=1&gt;&lt;15&gt;</c>.</summary>
    HaveNone = 15,

    /// <summary>BEP 6 reject request: <c>&lt;len=13&gt;&lt;16&gt;&lt;piece&gt;&lt;begin&gt;&lt;length&gt;</c>.</summary>
    RejectRequest = 16,

    /// <summary>BEP 6 allowed fast: <c>&lt;len=5&gt;&lt;17&gt;&lt;piece&gt;</c>.</summary>
    AllowedFast = 17,

    /// <summary>BEP 10 extended: <c>&lt;len=2+X&gt;&lt;20&gt;&lt;extension id&gt;&lt;payload&gt;</c>.</summary>
    Extended = 20,

    /// <summary>BEP 52 hash request: <c>&lt;len=49&gt;&lt;21&gt;&lt;pieces root&gt;&lt;base layer&gt;&lt;index&gt;&lt;length&gt;&lt;proof layers&gt;</c>.</summary>
    HashRequest = 21,

    /// <summary>BEP 52 hashes: a hash request's fields followed by the hashes.</summary>
    Hashes = 22,

    /// <summary>BEP 52 hash reject: the rejected hash request's fields.</summary>
    HashReject = 23,
}
