using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// A scripted raw-socket peer for hostile-peer tests: it listens on loopback, answers the engine's handshake for a
/// torrent, then runs a script against the connection. It writes raw bytes, so it can say anything, valid or not.
/// </summary>
internal sealed class HostilePeer : IAsyncDisposable
{
    /// <summary>The id a swarm asks for ut_metadata under: its registry numbers extensions from 1 as registered, ut_metadata first.</summary>
    public const byte UtMetadataId = 1;

    /// <summary>The id a swarm asks for ut_pex under (registered second, when the torrent is not private).</summary>
    public const byte UtPexId = 2;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly List<Task> _connections = [];

    public HostilePeer(TorrentManifest manifest, Func<Connection, CancellationToken, Task> script)
    {
        Manifest = manifest;
        _listener.Start();
        _accept = AcceptAsync(script);
    }

    public TorrentManifest Manifest { get; }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Gets the number of connections the engine made to this peer.</summary>
    public int Connections { get; private set; }

    /// <summary>Gets the number of requests received, over all connections.</summary>
    public int RequestsReceived => Volatile.Read(ref _requests);

    private int _requests;

    private static ReadOnlySpan<byte> PeerId => "-XX0000-hostilepeer0"u8;

    private readonly List<NetworkStream> _dialled = [];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accept;
        }
        catch (OperationCanceledException)
        {
        }

        foreach (Task connection in _connections)
        {
            await connection.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        foreach (NetworkStream stream in _dialled)
        {
            await stream.DisposeAsync();
        }

        _stop.Dispose();
    }

    /// <summary>
    /// Connects to <paramref name="target"/> as this same peer (same peer id, a new port), as a banned peer coming
    /// back would, and exchanges handshakes for the manifest's torrent.
    /// </summary>
    /// <returns>The connection, or <see langword="null"/> when the target hung up before answering the handshake.</returns>
    public async Task<Connection?> DialAsync(IPEndPoint target, CancellationToken ct)
    {
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(target, ct);
        var stream = new NetworkStream(socket, ownsSocket: true);
        byte[] infoHash = (Manifest.InfoHashV1 ?? Manifest.InfoHashV2)!.Value.Truncated20.ToArray();
        byte[] ours = new byte[PeerHandshake.Size];
        new PeerHandshake(HandshakeFeatures.Fast | HandshakeFeatures.ExtensionProtocol, infoHash, PeerId).WriteTo(ours);
        await stream.WriteAsync(ours, ct);
        try
        {
            await stream.ReadExactlyAsync(new byte[PeerHandshake.Size], ct);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException)
        {
            await stream.DisposeAsync();
            return null;
        }

        var connection = new Connection(this, stream);
        _dialled.Add(stream);
        return connection;
    }

    private async Task AcceptAsync(Func<Connection, CancellationToken, Task> script)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Connections++;
            _connections.Add(RunAsync(socket, script));
        }
    }

    private async Task RunAsync(Socket socket, Func<Connection, CancellationToken, Task> script)
    {
        using (socket)
        await using (var stream = new NetworkStream(socket, ownsSocket: false))
        {
            var connection = new Connection(this, stream);
            try
            {
                byte[] handshake = new byte[PeerHandshake.Size];
                await stream.ReadExactlyAsync(handshake, _stop.Token);
                var ours = new PeerHandshake(HandshakeFeatures.Fast | HandshakeFeatures.ExtensionProtocol, handshake.AsSpan(28, 20), PeerId);
                byte[] reply = new byte[PeerHandshake.Size];
                ours.WriteTo(reply);
                await stream.WriteAsync(reply, _stop.Token);
                await script(connection, _stop.Token);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or EndOfStreamException or ObjectDisposedException)
            {
                // The engine hung up on us, as it should on a hostile peer.
            }
        }
    }

    /// <summary>One connection from the engine, with helpers to speak (or garble) the protocol.</summary>
    internal sealed class Connection(HostilePeer peer, NetworkStream stream)
    {
        public TorrentManifest Manifest => peer.Manifest;

        public Task SendRawAsync(byte[] bytes, CancellationToken ct) => stream.WriteAsync(bytes, ct).AsTask();

        /// <summary>Hangs up.</summary>
        public ValueTask CloseAsync() => stream.DisposeAsync();

        public Task SendAsync(Action<IBufferWriter<byte>> write, CancellationToken ct)
        {
            var buffer = new ArrayBufferWriter<byte>();
            write(buffer);
            return stream.WriteAsync(buffer.WrittenMemory, ct).AsTask();
        }

        public Task HaveAllAndUnchokeAsync(CancellationToken ct) => SendAsync(w =>
        {
            MessageWriter.WriteSimple(w, MessageId.HaveAll);
            MessageWriter.WriteSimple(w, MessageId.Unchoke);
        }, ct);

        /// <summary>Sends a BEP 10 extended message (id 0: the extended handshake).</summary>
        public Task SendExtendedAsync(byte id, string payload, CancellationToken ct) =>
            SendExtendedAsync(id, System.Text.Encoding.Latin1.GetBytes(payload), ct);

        public Task SendExtendedAsync(byte id, byte[] payload, CancellationToken ct) =>
            SendAsync(w => MessageWriter.WriteExtended(w, id, payload), ct);

        /// <summary>Sends an extended handshake offering ut_metadata (as id 3) of <paramref name="size"/> bytes, and waits for the first request.</summary>
        public async Task OfferMetadataAsync(int size, CancellationToken ct)
        {
            await SendExtendedAsync(0, $"d1:md11:ut_metadatai3ee13:metadata_sizei{size}ee", ct);
            await ReadUntilAsync(MessageId.Extended, ct, extensionId: 3);
        }

        /// <summary>Sends a ut_metadata message under the id the engine advertises.</summary>
        public Task SendMetadataAsync(Action<IBufferWriter<byte>> write, CancellationToken ct)
        {
            var payload = new ArrayBufferWriter<byte>();
            write(payload);
            return SendExtendedAsync(HostilePeer.UtMetadataId, payload.WrittenSpan.ToArray(), ct);
        }

        /// <summary>Reads the next message (keep-alives skipped): its id and the bytes after it.</summary>
        public async Task<(MessageId Id, byte[] Body)> ReadMessageAsync(CancellationToken ct)
        {
            byte[] header = new byte[4];
            while (true)
            {
                await stream.ReadExactlyAsync(header, ct);
                int length = BinaryPrimitives.ReadInt32BigEndian(header);
                if (length == 0)
                {
                    continue;
                }

                byte[] body = new byte[length];
                await stream.ReadExactlyAsync(body, ct);
                return ((MessageId)body[0], body[1..]);
            }
        }

        /// <summary>Reads messages until a keep-alive (a message of length 0) arrives.</summary>
        public async Task ReadUntilKeepAliveAsync(CancellationToken ct)
        {
            byte[] header = new byte[4];
            while (true)
            {
                await stream.ReadExactlyAsync(header, ct);
                int length = BinaryPrimitives.ReadInt32BigEndian(header);
                if (length == 0)
                {
                    return;
                }

                await stream.ReadExactlyAsync(new byte[length], ct);
            }
        }

        /// <summary>Reads messages until one with <paramref name="id"/> (and, for extended messages, <paramref name="extensionId"/>) arrives.</summary>
        public async Task<byte[]> ReadUntilAsync(MessageId id, CancellationToken ct, int extensionId = -1)
        {
            while (true)
            {
                (MessageId got, byte[] body) = await ReadMessageAsync(ct);
                if (got == id && (extensionId < 0 || body[0] == extensionId))
                {
                    return extensionId < 0 ? body : body[1..];
                }
            }
        }

        /// <summary>Reads messages until the engine hangs up, answering requests through <paramref name="onRequest"/>.</summary>
        public async Task ServeAsync(Func<BlockRequest, Task>? onRequest, CancellationToken ct)
        {
            byte[] header = new byte[4];
            while (true)
            {
                await stream.ReadExactlyAsync(header, ct);
                int length = BinaryPrimitives.ReadInt32BigEndian(header);
                byte[] body = new byte[length];
                await stream.ReadExactlyAsync(body, ct);
                if (length == 13 && body[0] == (byte)MessageId.Request)
                {
                    Interlocked.Increment(ref peer._requests);
                    var block = new BlockRequest(BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1)), BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(5)), BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(9)));
                    if (onRequest is not null)
                    {
                        await onRequest(block);
                    }
                }
            }
        }
    }
}
