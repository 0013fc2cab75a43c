using System.Buffers;
using System.Net;
using BlockTorrent.Swarm.Extensions;
using BlockTorrent.Wire;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>Extensions registered by name: their ids, our extended handshake, and dispatch of incoming messages.</summary>
public sealed class ExtensionRegistryTests
{
    [Fact]
    public void AdvertisedExtensionsGetIdsInTheOrderRegisteredAndTheHandshakeNamesThem()
    {
        var registry = new ExtensionRegistry();
        var metadata = new MetadataServer(new byte[100]);
        var pex = new PeerExchange((_, _) => { }, interval: 1, TimeProvider.System);
        var hashes = new Named("bep52_hashes", advertised: false, MessageId.HashRequest);
        registry.Add(metadata);
        registry.Add(hashes);
        registry.Add(pex);

        Assert.Equal([1, 0, 2], registry.All.Select(e => (int)e.LocalId));
        Assert.True(ExtensionHandshake.TryParse(registry.EncodeHandshake(100, 6881, 2048), out ExtensionHandshake parsed));
        Assert.Equal(1, parsed.IdFor("ut_metadata"));
        Assert.Equal(2, parsed.IdFor("ut_pex"));
        Assert.Equal(100, parsed.MetadataSize);
    }

    [Fact]
    public void AMessageGoesToTheExtensionItsIdOrMessageNamesAndToNoneOtherwise()
    {
        var registry = new ExtensionRegistry();
        var first = new Named("x_first", advertised: true);
        var second = new Named("x_second", advertised: true);
        var core = new Named("x_core", advertised: false, MessageId.HashRequest);
        registry.Add(first);
        registry.Add(second);
        registry.Add(core);

        Assert.Same(second, registry.For(new PeerMessage { Id = MessageId.Extended, ExtensionId = 2 }));
        Assert.Same(first, registry.For(new PeerMessage { Id = MessageId.Extended, ExtensionId = 1 }));
        Assert.Same(core, registry.For(new PeerMessage { Id = MessageId.HashRequest }));
        Assert.Null(registry.For(new PeerMessage { Id = MessageId.Extended, ExtensionId = 3 }));
        Assert.Null(registry.For(new PeerMessage { Id = MessageId.Hashes }));
        Assert.Same(core, registry.Find("x_core"));
    }

    [Fact]
    public void ANameOrACoreMessageCannotBeRegisteredTwice()
    {
        var registry = new ExtensionRegistry();
        registry.Add(new Named("x_one", advertised: true, MessageId.HashRequest));
        Assert.Throws<InvalidOperationException>(() => registry.Add(new Named("x_one", advertised: true)));
        Assert.Throws<InvalidOperationException>(() => registry.Add(new Named("x_two", advertised: false, MessageId.HashRequest)));
        Assert.Single(registry.All);
    }

    [Fact]
    public void AnExtensionWithAFixedIdKeepsItWhetherOrNotOthersAreRegisteredBeforeItAndItsIdIsNotReused()
    {
        var withPex = new ExtensionRegistry();
        withPex.Add(new MetadataServer(new byte[1]));
        withPex.Add(new PeerExchange((_, _) => { }, interval: 1, TimeProvider.System));
        withPex.Add(new StreamWindowExchange((_, _) => { }), StreamWindowExchange.WantedId);
        var withoutPex = new ExtensionRegistry();
        withoutPex.Add(new MetadataServer(new byte[1]));
        withoutPex.Add(new StreamWindowExchange((_, _) => { }), StreamWindowExchange.WantedId);

        Assert.Equal(StreamWindowExchange.WantedId, withPex.Find(StreamWindowMessage.Name)!.LocalId);
        Assert.Equal(StreamWindowExchange.WantedId, withoutPex.Find(StreamWindowMessage.Name)!.LocalId);
        Assert.Null(withoutPex.For(new PeerMessage { Id = MessageId.Extended, ExtensionId = 2 }));
        Assert.Throws<InvalidOperationException>(() => withoutPex.Add(new Named("x_taken", advertised: true), StreamWindowExchange.WantedId));
    }

    [Fact]
    public void MetadataRequestsAreAnsweredUnderThePeersIdUntilTooManyWaitUnsent()
    {
        var registry = new ExtensionRegistry();
        var server = new MetadataServer(new byte[40_000]);
        registry.Add(server);
        var peer = new FakeExtensionPeer { RemoteExtensions = Handshake("d1:md11:ut_metadatai7eee") };
        var writer = new ArrayBufferWriter<byte>();
        MetadataMessage.Write(writer, MetadataMessageType.Request, 2, 0, default);
        var request = new PeerMessage { Id = MessageId.Extended, ExtensionId = server.LocalId, Payload = new ReadOnlySequence<byte>(writer.WrittenMemory) };

        string? outcome = null;
        for (int i = 0; i < 17 && outcome is null; i++)
        {
            outcome = registry.For(request)!.OnMessage(peer, request);
        }

        Assert.Equal(16, peer.Queued.Count);
        Assert.All(peer.Queued, m => Assert.Equal(7, m.ExtensionId));
        Assert.True(MetadataMessage.TryParse(new ReadOnlySequence<byte>(peer.Queued[0].Payload!), out MetadataMessage reply));
        Assert.Equal(MetadataMessageType.Data, reply.Type);
        Assert.Equal(40_000 - (2 * MetadataMessage.PieceSize), reply.Data.Length);
        Assert.NotNull(outcome);
    }

    [Fact]
    public void PeerExchangeTellsEachPeerOfTheOthersOnceAndThenOfThoseThatLeft()
    {
        var pex = new PeerExchange((_, _) => { }, interval: 10, TimeProvider.System);
        var a = new FakeExtensionPeer { Remote = new IPEndPoint(IPAddress.Loopback, 1001), RemoteExtensions = Handshake("d1:md6:ut_pexi5eee") };
        var b = new FakeExtensionPeer { Remote = new IPEndPoint(IPAddress.Loopback, 1002), RemoteExtensions = Handshake("d1:md6:ut_pexi5eee") };
        pex.Tick(100, [a, b]);
        pex.Tick(105, [a, b]);
        Assert.Single(a.Extended);
        Assert.Equal([b.Remote], PexMessage.TryParse(a.Extended[0])!.Added.Select(p => p.EndPoint));

        pex.Tick(110, [a]);
        Assert.Equal(2, a.Extended.Count);
        PexMessage dropped = PexMessage.TryParse(a.Extended[1])!;
        Assert.Empty(dropped.Added);
        Assert.Equal([b.Remote], dropped.Dropped.Select(p => p.EndPoint));
    }

    [Fact]
    public void PeerExchangeTakesOneListAMinuteFromEachPeerAndFiftyNamesFromIt()
    {
        var time = new FakeTimeProvider();
        var taken = new List<(IPEndPoint From, IPEndPoint[] Peers)>();
        var pex = new PeerExchange((from, peers) => taken.Add((from, [.. peers])), interval: 10, time, maxAccepted: 50);
        var a = new FakeExtensionPeer { Remote = new IPEndPoint(IPAddress.Parse("10.0.0.1"), 1001) };
        var b = new FakeExtensionPeer { Remote = new IPEndPoint(IPAddress.Parse("10.0.0.2"), 1002) };

        Assert.Null(pex.OnMessage(a, Pex(list: 0, count: 80)));
        Assert.Null(pex.OnMessage(b, Pex(list: 1, count: 3)));
        time.Advance(PeerExchange.MinMessageInterval - TimeSpan.FromSeconds(1));
        Assert.Null(pex.OnMessage(a, Pex(list: 2, count: 3)));
        Assert.Null(pex.OnMessage(b, Pex(list: 3, count: 3)));
        Assert.Equal([(a.Remote, 50), (b.Remote, 3)], taken.Select(t => (t.From, t.Peers.Length)));
        Assert.Equal(Pex(list: 0, count: 50).Payload.ToArray(), Write(taken[0].Peers));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(pex.OnMessage(a, Pex(list: 4, count: 3)));
        Assert.Null(pex.OnMessage(a, Pex(list: 5, count: 3)));
        Assert.Equal([(a.Remote, 50), (b.Remote, 3), (a.Remote, 3)], taken.Select(t => (t.From, t.Peers.Length)));
        Assert.Equal(Pex(list: 4, count: 3).Payload.ToArray(), Write(taken[2].Peers));
    }

    // A ut_pex message naming `count` peers no other list names.
    private static PeerMessage Pex(int list, int count)
    {
        var peers = new IPEndPoint[count];
        for (int i = 0; i < count; i++)
        {
            peers[i] = new IPEndPoint(new IPAddress([198, 51, (byte)list, (byte)(i + 1)]), 6881);
        }

        return new PeerMessage { Id = MessageId.Extended, ExtensionId = 1, Payload = new ReadOnlySequence<byte>(Write(peers)) };
    }

    private static byte[] Write(IEnumerable<IPEndPoint> peers)
    {
        var message = new PexMessage();
        foreach (IPEndPoint peer in peers)
        {
            message.Added.Add(new PexPeer(peer, PexFlags.None));
        }

        var writer = new ArrayBufferWriter<byte>();
        message.WriteTo(writer);
        return writer.WrittenSpan.ToArray();
    }

    private static ExtensionHandshake Handshake(string text)
    {
        Assert.True(ExtensionHandshake.TryParse(System.Text.Encoding.ASCII.GetBytes(text), out ExtensionHandshake handshake));
        return handshake;
    }

    private sealed class Named(string name, bool advertised, params MessageId[] core) : PeerExtension(name, advertised)
    {
        public override ReadOnlySpan<MessageId> CoreMessages => core;
    }
}
