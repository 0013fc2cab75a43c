namespace BlockTorrent.Wire;

/// <summary>The <c>msg_type</c> of a BEP 9 ut_metadata message.</summary>
internal enum MetadataMessageType
{
    /// <summary>Asks for one 16 KiB piece of the info dictionary.</summary>
    Request = 0,

    /// <summary>Carries one piece of the info dictionary.</summary>
    Data = 1,

    /// <summary>Refuses a request.</summary>
    Reject = 2,
}
