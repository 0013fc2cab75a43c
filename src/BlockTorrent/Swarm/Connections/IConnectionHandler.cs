using System.Buffers;
using System.IO.Pipelines;

namespace BlockTorrent.Swarm.Connections;

/// <summary>
/// The protocol on top of a <see cref="PeerConnection{TMessage}"/>: it reads messages out of the bytes received,
/// and writes the messages queued for sending when the send loop gets to them.
/// </summary>
/// <typeparam name="TMessage">A queued message: a small struct, so queueing allocates nothing.</typeparam>
internal interface IConnectionHandler<TMessage>
    where TMessage : struct
{
    /// <summary>Reads and handles every whole message at the start of the bytes received, and advances past them.</summary>
    /// <param name="buffer">The bytes received and not consumed yet; on return, what is left of them.</param>
    /// <returns>A reason to close the connection, or <see langword="null"/>.</returns>
    string? OnReceived(ref ReadOnlySequence<byte> buffer);

    /// <summary>
    /// Gets how many more bytes the message <see cref="OnReceived"/> stopped in the middle of needs before it can be
    /// handled, when its length is known; 0 otherwise.
    /// </summary>
    long MissingBytes { get; }

    /// <summary>Runs once the bytes consumed by <see cref="OnReceived"/> are released, before the next read.</summary>
    void OnReceiveBatchEnd();

    /// <summary>
    /// Gets a value indicating whether a message is bulk data, which waits behind every other message queued: a
    /// small message must not queue behind the megabytes a peer asked of us.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <returns>Whether it is bulk.</returns>
    bool IsBulk(in TMessage message);

    /// <summary>Writes one queued message.</summary>
    /// <param name="output">The connection's output.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancelled when the connection closes.</param>
    /// <returns>The bytes written.</returns>
    ValueTask<int> WriteAsync(PipeWriter output, TMessage message, CancellationToken cancellationToken);

    /// <summary>The connection closed (called once, from the thread that closed it).</summary>
    /// <param name="reason">Why.</param>
    void OnClosed(string reason);
}
