namespace BlockTorrent.Wire;

/// <summary>Settings of peer connections: timeouts, buffer sizes and message limits.</summary>
internal sealed class PeerConnectionOptions
{
    /// <summary>Gets options with every default.</summary>
    public static PeerConnectionOptions Default { get; } = new();

    /// <summary>Gets how long a TCP connect may take.</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets how long the peer may take to complete the BEP 3 handshake.</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets how long we stay silent before sending a keep-alive.</summary>
    /// <value>The default is 60 seconds (BEP 3 peers expect one at least every 2 minutes).</value>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets how long the peer may send nothing at all before the connection is closed.</summary>
    /// <value>The default is 150 seconds: longer than the 2-minute keep-alive period peers use.</value>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(150);

    /// <summary>Gets the socket's receive buffer size (SO_RCVBUF), or 0 to leave the OS's autotuning in charge.</summary>
    /// <value>The default is 4 MiB.</value>
    public int SocketReceiveBufferSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Gets the socket's send buffer size (SO_SNDBUF), or 0 to leave the OS's autotuning in charge.</summary>
    /// <value>The default is 4 MiB.</value>
    public int SocketSendBufferSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Gets the smallest buffer one socket receive fills.</summary>
    /// <value>The default is 64 KiB.</value>
    public int ReceiveChunkSize { get; init; } = 64 * 1024;

    /// <summary>
    /// Gets how many bytes may wait to be sent before senders wait (backpressure); they resume below half of it.
    /// </summary>
    /// <value>The default is 4 MiB (enough to keep a 10 GbE link busy while the send loop is scheduled).</value>
    public int SendQueueLimit { get; init; } = 4 * 1024 * 1024;

    /// <summary>Gets the largest extended message payload accepted (BEP 10).</summary>
    /// <value>The default is 1 MiB.</value>
    public int MaxExtensionMessageLength { get; init; } = MessageReader.DefaultMaxExtensionMessageLength;

    /// <summary>Gets the clock used for timeouts and keep-alives.</summary>
    /// <value>The default is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HandshakeTimeout, TimeSpan.Zero, nameof(HandshakeTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAliveInterval, TimeSpan.Zero, nameof(KeepAliveInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero, nameof(IdleTimeout));
        ArgumentOutOfRangeException.ThrowIfNegative(SocketReceiveBufferSize, nameof(SocketReceiveBufferSize));
        ArgumentOutOfRangeException.ThrowIfNegative(SocketSendBufferSize, nameof(SocketSendBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveChunkSize, 4096, nameof(ReceiveChunkSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(SendQueueLimit, 64 * 1024, nameof(SendQueueLimit));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxExtensionMessageLength, 64 * 1024, nameof(MaxExtensionMessageLength));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}
