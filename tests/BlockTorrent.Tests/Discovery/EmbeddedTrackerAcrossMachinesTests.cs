using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using BlockTorrent.Discovery;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Discovery;

/// <summary>The embedded tracker on one machine and its peers on two (network namespaces joined by a link).</summary>
public sealed class EmbeddedTrackerAcrossMachinesTests
{
    private static readonly IPAddress TrackerMachine = IPAddress.Parse("10.231.59.1");

    [Fact]
    public async Task APeerThatAnnouncedFromTheTrackersLoopbackIsGivenToAnotherMachineAtTheAddressItReachedTheTrackerOn()
    {
        Requires.Linux();
        Requires.Root();
        Requires.Program("ip", "iproute2");
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using NetworkNamespace here = await NetworkNamespace.CreateAsync("svc-trk", ct);
        await using NetworkNamespace there = await NetworkNamespace.CreateAsync("svc-trk", ct);
        await NetworkNamespace.LinkAsync(here, "svc-h", $"{TrackerMachine}/24", there, "svc-r", "10.231.59.2/24", ct);
        await using EmbeddedTracker tracker = here.Enter(() =>
        {
            var started = new EmbeddedTracker(new EmbeddedTrackerOptions { ListenEndPoint = new IPEndPoint(IPAddress.Any, 0) });
            started.StartAsync(ct).GetAwaiter().GetResult();
            return started;
        });
        int port = tracker.LocalEndPoint.Port;
        byte[] infoHash = RandomNumberGenerator.GetBytes(20);

        // The seed beside the tracker announces to this machine's name, which resolves to a loopback address.
        await AnnounceAsync(here, new IPEndPoint(IPAddress.Loopback, port), infoHash, 7001, left: 0, ct);
        AnnounceResponse fromThere = await AnnounceAsync(there, new IPEndPoint(TrackerMachine, port), infoHash, 7002, left: 10, ct);
        AnnounceResponse fromHere = await AnnounceAsync(here, new IPEndPoint(IPAddress.Loopback, port), infoHash, 7003, left: 10, ct);

        Assert.Equal([new IPEndPoint(TrackerMachine, 7001)], fromThere.Peers);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 7001), fromHere.Peers);
        Assert.Contains(new IPEndPoint(IPAddress.Parse("10.231.59.2"), 7002), fromHere.Peers);
    }

    /// <summary>Announces over a connection made from <paramref name="machine"/>, as a peer there would.</summary>
    private static async Task<AnnounceResponse> AnnounceAsync(NetworkNamespace machine, IPEndPoint tracker, byte[] infoHash, int port, long left, CancellationToken ct)
    {
        using Socket socket = machine.Enter(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        await socket.ConnectAsync(tracker, ct);
        string query = $"info_hash={Escape(infoHash)}&peer_id={Escape(RandomNumberGenerator.GetBytes(20))}&port={port}&left={left}&compact=1&event=started";
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /announce?{query} HTTP/1.1\r\nHost: tracker\r\n\r\n"), SocketFlags.None, ct);
        using var response = new MemoryStream();
        byte[] buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct)) > 0)
        {
            response.Write(buffer, 0, read);
        }

        byte[] bytes = response.ToArray();
        int bodyStart = bytes.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        return HttpTrackerResponse.ParseAnnounce(bytes.AsSpan(bodyStart), new Uri($"http://{tracker}/announce"), maxPeers: 50);
    }

    private static string Escape(byte[] bytes) => string.Concat(bytes.Select(b => $"%{b:X2}"));
}
