using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// TLS swarms (a manifest with a swarm authority): peers with certificates of that authority deploy bit-exact, and a
/// host without one gets no byte of the image and gives none.
/// </summary>
public sealed class TlsSwarmTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Year = TimeSpan.FromDays(365);

    [Fact]
    public async Task PeersWithCertificatesOfTheSwarmAuthorityDeployATlsTorrentBitExact()
    {
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("fleet", Year);
        var (image, manifest) = await CreateAsync(authority, 1024 * 1024, seed: 61);
        using X509Certificate2 seedCertificate = SwarmCertificates.Issue(authority, SwarmCertificates.AnyTorrent, Year);
        using X509Certificate2 targetCertificate = SwarmCertificates.Issue(authority, manifest.Name, Year);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(WithCertificate(seedCertificate));
        await using var deployer = new BlockTorrentClient(WithCertificate(targetCertificate));
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        var target = new MemoryBlockDevice(manifest.Length);

        DeploymentResult result = await deployer.DeployAsync(manifest, target, SwarmTestImages.From(seeder.LocalEndPoint), null, cts.Token);

        Assert.True(target.Contents.Span.SequenceEqual(image));
        Assert.Equal(0, result.HashFailures);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Fact]
    public async Task APeerWithACertificateOfTheAuthorityGetsTheSeedsHandshake()
    {
        // The probe below, with an admitted certificate: it does receive bytes, so its zeros elsewhere mean refusal.
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("fleet", Year);
        var (image, manifest) = await CreateAsync(authority, 256 * 1024, seed: 62);
        using X509Certificate2 seedCertificate = SwarmCertificates.Issue(authority, SwarmCertificates.AnyTorrent, Year);
        using X509Certificate2 probeCertificate = SwarmCertificates.Issue(authority, SwarmCertificates.AnyTorrent, Year);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(WithCertificate(seedCertificate));
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);

        long received = await ProbeAsync(seeder.LocalEndPoint, manifest, probeCertificate, cts.Token);

        Assert.True(received >= PeerHandshake.Size, $"received {received} bytes");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Fact]
    public async Task AnUnauthorisedHostGetsNoByteAndGivesNoneWhileATlsDeploymentCompletesBitExact()
    {
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("fleet", Year);
        using X509Certificate2 stranger = SwarmCertificates.CreateAuthority("fleet", Year);
        var (image, manifest) = await CreateAsync(authority, 2 * 1024 * 1024, seed: 63);
        using X509Certificate2 seedCertificate = SwarmCertificates.Issue(authority, SwarmCertificates.AnyTorrent, Year);
        using X509Certificate2 targetCertificate = SwarmCertificates.Issue(authority, SwarmCertificates.AnyTorrent, Year);
        using X509Certificate2 intruderCertificate = SwarmCertificates.Issue(stranger, SwarmCertificates.AnyTorrent, Year);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(WithCertificate(seedCertificate));
        await using var deployer = new BlockTorrentClient(WithCertificate(targetCertificate));
        await using var intruder = new IntruderSeed(intruderCertificate);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);

        // The intruder, as a plain peer and as a TLS peer of another authority, asks the seed and the target.
        long[] stolen =
        [
            await ProbeAsync(seeder.LocalEndPoint, manifest, null, cts.Token),
            await ProbeAsync(seeder.LocalEndPoint, manifest, intruderCertificate, cts.Token),
            await ProbeAsync(deployer.LocalEndPoint, manifest, null, cts.Token),
            await ProbeAsync(deployer.LocalEndPoint, manifest, intruderCertificate, cts.Token),
        ];

        // And it offers itself to the target as a seed, next to the real one.
        var target = new MemoryBlockDevice(manifest.Length);
        DeploymentResult result = await deployer.DeployAsync(manifest, target, SwarmTestImages.From(intruder.EndPoint, seeder.LocalEndPoint), null, cts.Token);

        Assert.Equal([0, 0, 0, 0], stolen);
        Assert.True(target.Contents.Span.SequenceEqual(image));
        Assert.Equal(0, result.HashFailures);
        Assert.True(intruder.Connections > 0, "the target never dialled the intruder");
        Assert.Equal(0, intruder.BytesReceived);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Fact]
    public async Task DeployingATlsTorrentWithoutAPeerCertificateFailsBeforeTheDeviceIsTouched()
    {
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("fleet", Year);
        var (_, manifest) = await CreateAsync(authority, 256 * 1024, seed: 64);
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        byte[] before = new byte[manifest.Length];
        Array.Fill(before, (byte)0xAB);
        var target = new MemoryBlockDevice(before.ToArray());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => deployer.DeployAsync(manifest, target, null, null, TestContext.Current.CancellationToken));

        Assert.Contains("TLS torrent", error.Message, StringComparison.Ordinal);
        Assert.True(target.Contents.Span.SequenceEqual(before), "the device changed");
    }

    [Fact]
    public async Task SeedingATlsTorrentWithACertificateOfAnotherAuthorityFails()
    {
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("fleet", Year);
        using X509Certificate2 stranger = SwarmCertificates.CreateAuthority("fleet", Year);
        var (image, manifest) = await CreateAsync(authority, 256 * 1024, seed: 65);
        using X509Certificate2 certificate = SwarmCertificates.Issue(stranger, SwarmCertificates.AnyTorrent, Year);
        await using var seeder = new BlockTorrentClient(WithCertificate(certificate));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, TestContext.Current.CancellationToken));

        Assert.Contains("would refuse ours", error.Message, StringComparison.Ordinal);
    }

    private static async Task<(byte[] Image, TorrentManifest Manifest)> CreateAsync(X509Certificate2 authority, long length, int seed)
    {
        byte[] image = new TestImage { Length = length, Seed = seed, BlockSize = SwarmTestImages.PieceLength }.ToArray();
        var options = new ManifestBuilderOptions { PieceLength = SwarmTestImages.PieceLength, Name = "image.raw", SwarmAuthority = authority };
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), options, TestContext.Current.CancellationToken);
        return (image, manifest);
    }

    private static BlockTorrentClientOptions WithCertificate(X509Certificate2 certificate)
    {
        BlockTorrentClientOptions options = SwarmTestImages.Loopback();
        options.PeerCertificate = certificate;
        return options;
    }

    /// <summary>
    /// Connects as a peer would (plain, or TLS with <paramref name="certificate"/>, trusting any server), sends the
    /// torrent's handshake and interest, and counts what comes back until the connection closes or 3 s pass.
    /// </summary>
    private static async Task<long> ProbeAsync(IPEndPoint endPoint, TorrentManifest manifest, X509Certificate2? certificate, CancellationToken cancellationToken)
    {
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint, cancellationToken);
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        byte[] hash = (manifest.InfoHashV1 ?? manifest.InfoHashV2)!.Value.Truncated20.ToArray();
        long received = 0;
        try
        {
            if (certificate is not null)
            {
                var tls = new SslStream(stream);
                stream = tls;
                await tls.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = Convert.ToHexStringLower(hash),
                        ClientCertificates = [certificate],
                        RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    },
                    cancellationToken);
            }

            byte[] handshake = new byte[PeerHandshake.Size];
            new PeerHandshake(PeerHandshake.DefaultFeatures, hash, "-XX0000-intruder0000"u8).WriteTo(handshake);
            await stream.WriteAsync(handshake, cancellationToken);
            await stream.WriteAsync(new byte[] { 0, 0, 0, 1, 2 }, cancellationToken);
            using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            window.CancelAfter(TimeSpan.FromSeconds(3));
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = await stream.ReadAsync(buffer, window.Token)) > 0)
            {
                received += n;
            }
        }
        catch (Exception e) when (e is IOException or AuthenticationException or SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Refused (TLS alert, reset) or silent: whatever arrived before is counted.
        }
        finally
        {
            await stream.DisposeAsync();
        }

        return received;
    }

    /// <summary>
    /// A host with a certificate of another authority posing as a seed: it accepts TLS and counts the peer-protocol
    /// bytes it receives after the TLS handshake (a target that took it for a peer would send its handshake).
    /// </summary>
    private sealed class IntruderSeed : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly X509Certificate2 _certificate;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private long _bytesReceived;
        private int _connections;

        public IntruderSeed(X509Certificate2 certificate)
        {
            _certificate = certificate;
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

        public long BytesReceived => Interlocked.Read(ref _bytesReceived);

        public int Connections => Volatile.Read(ref _connections);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                Interlocked.Increment(ref _connections);
                _ = ServeAsync(client);
            }
        }

        private async Task ServeAsync(Socket client)
        {
            await using var tls = new SslStream(new NetworkStream(client, ownsSocket: true));
            try
            {
                await tls.AuthenticateAsServerAsync(
                    new SslServerAuthenticationOptions
                    {
                        ServerCertificate = _certificate,
                        ClientCertificateRequired = true,
                        RemoteCertificateValidationCallback = (_, _, _, _) => true,
                    },
                    _stop.Token);
                byte[] buffer = new byte[16 * 1024];
                int n;
                while ((n = await tls.ReadAsync(buffer, _stop.Token)) > 0)
                {
                    Interlocked.Add(ref _bytesReceived, n);
                }
            }
            catch (Exception e) when (e is IOException or AuthenticationException or OperationCanceledException or SocketException)
            {
                // Refused by the target: nothing was exchanged.
            }
        }
    }
}
