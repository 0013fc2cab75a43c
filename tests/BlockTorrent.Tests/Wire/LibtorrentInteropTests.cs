using System.Diagnostics;
using System.Net;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Wire;

public sealed class LibtorrentInteropTests
{
    private const int PieceSize = 16 * 1024;

    // Creates a 4-piece hybrid torrent of random bytes with 16 KiB pieces, seeds it on 127.0.0.1, and prints the
    // torrent's path and the listen port. It never outlives 120 s, even if the test that started it dies.
    private const string SeedScript = """
        import os, sys, time
        import libtorrent as lt

        work = sys.argv[1]
        piece_size = 16384
        path = os.path.join(work, "image.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(4 * piece_size))
        fs = lt.file_storage()
        lt.add_files(fs, path)
        ct = lt.create_torrent(fs, piece_size)
        lt.set_piece_hashes(ct, work)
        torrent_path = os.path.join(work, "image.torrent")
        with open(torrent_path, "wb") as f:
            f.write(lt.bencode(ct.generate()))
        s = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
                        "enable_upnp": False, "enable_natpmp": False, "alert_mask": 0})
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(torrent_path)
        atp.save_path = work
        atp.flags |= lt.torrent_flags.seed_mode
        atp.flags &= ~(lt.torrent_flags.paused | lt.torrent_flags.auto_managed)
        h = s.add_torrent(atp)
        deadline = time.time() + 30
        while not h.status().is_seeding:
            if time.time() > deadline:
                sys.exit("libtorrent did not start seeding")
            time.sleep(0.05)
        print("torrent", torrent_path)
        print("port", s.listen_port(), flush=True)
        end = time.time() + 120
        while time.time() < end:
            time.sleep(0.5)
        """;

    [Fact]
    public async Task OurConnectionHandshakesWithALibtorrentSeedAndReceivesAVerifiedBlock()
    {
        Requires.PythonLibtorrent();
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        using var work = new TempDirectory();
        File.WriteAllText(work.File("seed.py"), SeedScript);
        using Process seed = ExternalProgram.Start("/usr/bin/python3", [work.File("seed.py"), work.Path]);
        try
        {
            (string torrentPath, int port) = await ReadSeedAnnouncementAsync(seed, cancellationToken);
            TorrentManifest manifest = TorrentManifest.Load(torrentPath);
            var local = new PeerHandshake(PeerHandshake.DefaultFeatures, manifest.InfoHashV1!.Value.Span, PeerIds.Create());
            var peer = new RecordingPeer(PieceSize, manifest.PieceCount)
            {
                Unchoked = c => _ = c.SendBlockAsync(MessageId.Request, new BlockRequest(0, 0, PieceSize)).AsTask(),
            };
            peer.Expect(0, 0);

            // libtorrent may move a hybrid torrent's connection to its v2 info-hash (BEP 52) since we set the v2 bit.
            await using PeerConnection connection = await PeerConnection.ConnectAsync(
                new IPEndPoint(IPAddress.Loopback, port), local, upgradeInfoHash: manifest.InfoHashV2!.Value.Truncated20.ToArray(), cancellationToken: cancellationToken);
            connection.PieceCount = manifest.PieceCount;
            connection.Start(peer, peer);
            Assert.True(connection.SupportsFastExtension);
            Assert.True(connection.SupportsExtensionProtocol);
            await connection.SendAsync(MessageId.HaveNone, cancellationToken);
            await connection.SendExtendedHandshakeAsync(ExtensionHandshake.CreateLocal(null, null, IPAddress.Loopback), cancellationToken);
            await connection.SendAsync(MessageId.Interested, cancellationToken);

            await Eventually.TrueAsync(() => connection.BlocksReceived == 1 || connection.IsClosed, TimeSpan.FromSeconds(30), "libtorrent's block", cancellationToken);
            Assert.False(connection.IsClosed, $"closed: {connection.CloseReason} {connection.ProtocolError} {connection.CloseException}; saw {string.Join("; ", peer.Events)}");
            Assert.True(manifest.VerifyPiece(0, peer.Data.AsSpan(0, PieceSize)), "the block libtorrent sent does not hash to piece 0");
            Assert.Contains(peer.Events, e => e.StartsWith("extended handshake libtorrent", StringComparison.Ordinal));
            Assert.True(connection.RemoteExtensions!.MetadataSize > 0);
            Assert.True(connection.SupportsMetadataExchange);
            Assert.Contains(peer.Events, e => e is "have all" or "bitfield f0");
        }
        finally
        {
            seed.Kill(entireProcessTree: true);
            await seed.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static async Task<(string TorrentPath, int Port)> ReadSeedAnnouncementAsync(Process seed, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        string? torrent = null;
        while (await seed.StandardOutput.ReadLineAsync(timeout.Token) is string line)
        {
            if (line.StartsWith("torrent ", StringComparison.Ordinal))
            {
                torrent = line["torrent ".Length..];
            }
            else if (line.StartsWith("port ", StringComparison.Ordinal) && torrent is not null)
            {
                return (torrent, int.Parse(line["port ".Length..], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        throw new InvalidOperationException($"The libtorrent seed exited without announcing its port: {await seed.StandardError.ReadToEndAsync(cancellationToken)}");
    }
}
