using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// A host that tries to take all of a peer's connection slots, from many loopback addresses (127.0.0.x, each its
/// own "host" to the peer): silent sockets that connect and never send a handshake, and idle peers that handshake
/// for the torrent, say they have nothing and then only listen. Whatever is closed on it connects again.
/// </summary>
internal sealed class SlotAttack : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly byte[] _infoHash;
    private int _silentOpen;
    private int _idleAdmitted;
    private int _idleDropped;

    /// <summary>Starts the attack on <paramref name="victim"/>.</summary>
    /// <param name="victim">The peer's listen endpoint.</param>
    /// <param name="manifest">The torrent the idle peers handshake for.</param>
    /// <param name="silent">How many silent sockets.</param>
    /// <param name="idle">How many idle peers.</param>
    /// <param name="perAddress">How many of each kind share one source address.</param>
    /// <param name="firstAddress">The last byte of the first source address, 127.0.0.<paramref name="firstAddress"/>.</param>
    public SlotAttack(IPEndPoint victim, TorrentManifest manifest, int silent, int idle, int perAddress, int firstAddress = 20)
    {
        _infoHash = (manifest.InfoHashV1 ?? manifest.InfoHashV2)!.Value.Truncated20.ToArray();
        int silentAddresses = (silent + perAddress - 1) / perAddress;
        for (int i = 0; i < silent; i++)
        {
            IPAddress from = Address(firstAddress + (i / perAddress));
            _tasks.Add(Task.Run(() => SilentAsync(from, victim, _stop.Token)));
        }

        for (int i = 0; i < idle; i++)
        {
            IPAddress from = Address(firstAddress + silentAddresses + (i / perAddress));
            byte[] peerId = System.Text.Encoding.ASCII.GetBytes($"-AT0000-{i:D12}");
            _tasks.Add(Task.Run(() => IdleAsync(from, victim, peerId, _stop.Token)));
        }
    }

    /// <summary>Gets how many silent sockets are connected now.</summary>
    public int SilentOpen => Volatile.Read(ref _silentOpen);

    /// <summary>Gets how many idle peers the victim admitted (it sent them a message after its handshake) and still holds.</summary>
    public int IdleAdmitted => Volatile.Read(ref _idleAdmitted);

    /// <summary>Gets how many times the victim closed an idle peer it had admitted (each is then replaced).</summary>
    public int IdleDropped => Volatile.Read(ref _idleDropped);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_tasks);
        _stop.Dispose();
    }

    private static IPAddress Address(int last) => new([127, 0, 0, (byte)last]);

    private static async Task<Socket?> ConnectAsync(IPAddress from, IPEndPoint victim, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(from, 0));
            await socket.ConnectAsync(victim, ct);
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>Reads and drops whatever arrives until the victim hangs up.</summary>
    private static async Task DrainAsync(Socket socket, byte[] buffer, CancellationToken ct)
    {
        while (await socket.ReceiveAsync(buffer, ct) > 0)
        {
        }
    }

    private static async Task PaceAsync(CancellationToken ct)
    {
        // Reconnecting at once after every refusal would only spin; an attacker has all the time it wants.
        await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
    }

    private async Task SilentAsync(IPAddress from, IPEndPoint victim, CancellationToken ct)
    {
        byte[] buffer = new byte[64];
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using Socket? socket = await ConnectAsync(from, victim, ct);
                if (socket is not null)
                {
                    Interlocked.Increment(ref _silentOpen);
                    try
                    {
                        await DrainAsync(socket, buffer, ct);
                    }
                    catch (SocketException)
                    {
                        // Reset by the victim.
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _silentOpen);
                    }
                }

                await PaceAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task IdleAsync(IPAddress from, IPEndPoint victim, byte[] peerId, CancellationToken ct)
    {
        byte[] handshake = new byte[PeerHandshake.Size];
        new PeerHandshake(HandshakeFeatures.Fast | HandshakeFeatures.ExtensionProtocol, _infoHash, peerId).WriteTo(handshake);
        byte[] haveNone = new byte[5];
        BinaryPrimitives.WriteInt32BigEndian(haveNone, 1);
        haveNone[4] = (byte)MessageId.HaveNone;
        byte[] buffer = new byte[16 * 1024];
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using Socket? socket = await ConnectAsync(from, victim, ct);
                if (socket is not null)
                {
                    await IdleOnceAsync(socket, handshake, haveNone, buffer, ct);
                }

                await PaceAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task IdleOnceAsync(Socket socket, byte[] handshake, byte[] haveNone, byte[] buffer, CancellationToken ct)
    {
        bool admitted = false;
        try
        {
            await socket.SendAsync(handshake, ct);
            using var stream = new NetworkStream(socket, ownsSocket: false);
            await stream.ReadExactlyAsync(buffer.AsMemory(0, PeerHandshake.Size), ct);
            await socket.SendAsync(haveNone, ct);

            // A peer that admitted us says what it has (and its extended handshake) before anything else.
            await stream.ReadExactlyAsync(buffer.AsMemory(0, 4), ct);
            admitted = true;
            Interlocked.Increment(ref _idleAdmitted);
            await DrainAsync(socket, buffer, ct);
        }
        catch (Exception e) when (e is SocketException or IOException or EndOfStreamException)
        {
            // Refused or dropped by the victim.
        }
        finally
        {
            if (admitted)
            {
                Interlocked.Decrement(ref _idleAdmitted);
                if (!ct.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _idleDropped);
                }
            }
        }
    }
}
