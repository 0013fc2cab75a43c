using System.Net;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Wire;

/// <summary>Two connected <see cref="PeerConnection"/>s over real loopback sockets: one outgoing, one accepted by a <see cref="PeerListener"/>.</summary>
internal sealed class LoopbackPair : IAsyncDisposable, IIncomingPeerHandler
{
    public static readonly byte[] InfoHash = Enumerable.Range(100, 20).Select(i => (byte)i).ToArray();

    private readonly TaskCompletionSource<PeerConnection> _accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PeerHandshake _serverHandshake;
    private PeerListener? _listener;

    private LoopbackPair(PeerHandshake serverHandshake)
    {
        _serverHandshake = serverHandshake;
    }

    public PeerConnection Client { get; private set; } = null!;

    public PeerConnection Server { get; private set; } = null!;

    public PeerListener Listener => _listener!;

    public static async Task<LoopbackPair> ConnectAsync(PeerConnectionOptions? options = null, HandshakeFeatures features = PeerHandshake.DefaultFeatures)
    {
        var pair = new LoopbackPair(new PeerHandshake(features, InfoHash, PeerIds.Create()));
        pair._listener = new PeerListener(new IPEndPoint(IPAddress.Loopback, 0), pair, options);
        pair._listener.Start();
        var clientHandshake = new PeerHandshake(features, InfoHash, PeerIds.Create());
        pair.Client = await PeerConnection.ConnectAsync(pair._listener.LocalEndPoint, clientHandshake, options, cancellationToken: TestContext.Current.CancellationToken);
        pair.Server = await pair._accepted.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        return pair;
    }

    /// <summary>Starts both connections with recording peers (new ones unless given).</summary>
    public (RecordingPeer Server, RecordingPeer Client) Start(RecordingPeer? server = null, RecordingPeer? client = null)
    {
        server ??= new RecordingPeer();
        client ??= new RecordingPeer();
        Server.Start(server, server);
        Client.Start(client, client);
        return (server, client);
    }

    public PeerHandshake? GetHandshake(ReadOnlySpan<byte> infoHash, HandshakeFeatures remoteFeatures) =>
        infoHash.SequenceEqual(InfoHash) ? _serverHandshake : null;

    public void OnAccepted(PeerConnection connection) => _accepted.TrySetResult(connection);

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }

        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (_listener is not null)
        {
            await _listener.DisposeAsync();
        }
    }
}
