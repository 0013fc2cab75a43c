namespace BlockTorrent.Wire;

/// <summary>What <see cref="MessageReader.TryRead"/> found at the start of the buffer.</summary>
internal enum WireReadStatus
{
    /// <summary>The buffer does not yet hold a whole message; nothing was consumed.</summary>
    NeedMoreData,

    /// <summary>A keep-alive (a zero length prefix) was consumed.</summary>
    KeepAlive,

    /// <summary>A message was consumed and <see cref="MessageReader.Current"/> describes it.</summary>
    Message,

    /// <summary>
    /// The peer broke the protocol; <see cref="MessageReader.Error"/> says how. The connection must be closed:
    /// nothing after the bad message can be trusted.
    /// </summary>
    ProtocolError,
}
