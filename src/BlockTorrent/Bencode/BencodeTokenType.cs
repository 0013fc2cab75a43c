namespace BlockTorrent.Bencode;

/// <summary>The kinds of token a <see cref="BencodeReader"/> stops at.</summary>
internal enum BencodeTokenType : byte
{
    /// <summary>No token has been read yet.</summary>
    None,

    /// <summary>An integer (<c>i…e</c>); its value is <see cref="BencodeReader.IntegerValue"/>.</summary>
    Integer,

    /// <summary>A byte string (<c>len:bytes</c>); its bytes are <see cref="BencodeReader.ValueSpan"/>.</summary>
    String,

    /// <summary>The start of a list (<c>l</c>).</summary>
    StartList,

    /// <summary>The end of a list (<c>e</c>).</summary>
    EndList,

    /// <summary>The start of a dictionary (<c>d</c>).</summary>
    StartDictionary,

    /// <summary>The end of a dictionary (<c>e</c>).</summary>
    EndDictionary,
}
