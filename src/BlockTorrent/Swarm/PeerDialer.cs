using System.Net;
using System.Net.Sockets;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm;

/// <summary>
/// The BitTorrent handshake on a connection's two ends: dialling a peer and exchanging handshakes (a swarm's
/// connections and a magnet link's metadata fetch alike), and reading the handshake an accepted connection sends.
/// </summary>
internal static class PeerDialer
{
    /// <summary>Connects to a peer, secures the connection when the torrent asks for it, sends our handshake and reads the peer's.</summary>
    /// <param name="endPoint">The peer.</param>
    /// <param name="congestionControl">The TCP congestion control to set, or null for the system's.</param>
    /// <param name="ours">Our handshake.</param>
    /// <param name="secure">Wraps the connected socket in TLS (a swarm with an authority), or null for a plain connection.</param>
    /// <param name="cancellationToken">Stops the dial (a deadline, or the owner stopping).</param>
    /// <returns>The connected socket and the stream over it (which owns the socket; the caller owns both), and the peer's handshake, or null when it sent none.</returns>
    public static async Task<(Socket Socket, Stream Stream, PeerHandshake? Remote)> DialAsync(IPEndPoint endPoint, string? congestionControl, PeerHandshake ours, Func<Socket, CancellationToken, Task<Stream>>? secure, CancellationToken cancellationToken)
    {
        Socket socket = PeerSockets.Create(endPoint.AddressFamily, congestionControl);
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            stream = secure is null ? new NetworkStream(socket, ownsSocket: true) : await secure(socket, cancellationToken).ConfigureAwait(false);
            byte[] bytes = new byte[PeerHandshake.Size];
            ours.WriteTo(bytes);
            await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            return (socket, stream, await ReceiveHandshakeAsync(stream, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            socket.Dispose();
            throw;
        }
    }

    /// <summary>Reads a 68-byte handshake from a connection's stream (the socket's, or TLS over it).</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <returns>The handshake, or <see langword="null"/> when the bytes are not one or the peer hung up.</returns>
    public static async Task<PeerHandshake?> ReceiveHandshakeAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[PeerHandshake.Size];
        int received = 0;
        while (received < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(received), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }

            received += n;
            if (received >= PeerHandshake.SizeBeforePeerId && !PeerHandshake.TryReadHeader(buffer, out _, out _))
            {
                return null;
            }
        }

        return PeerHandshake.TryParse(buffer);
    }
}
