using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>
/// Issue 16.5: a depot and two targets, each service a process in its own network namespace on one bridged LAN,
/// deploy a TLS (authenticated) image to loop devices while a hostile host on the same LAN runs every attack it can.
/// All three run with the service's defaults: the depot signs and makes TLS swarms, and each target, given only the
/// depot's URL, its HTTPS fingerprint and the fleet token, enrols for its certificate and the depot's signing key.
/// </summary>
public sealed partial class AttackerNamespaceTests : IDisposable
{
    private const string Subnet = "10.231.116";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(180);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// In the clear, over TLS without a certificate and with one of another authority: handshakes, HaveNone floods,
    /// 1000 bogus PEX entries, garbage blocks; a fake seed of another authority announced to the tracker from 40
    /// ports; a listing scrape, the fleet view, a forged report and enrolments without the token, the web seed.
    /// </summary>
    [Fact]
    public Task AHostileHostOnTheLanGetsNoByteOfATlsImageAndChangesNothingWhileTwoTargetsDeployItBitExact() =>
        DeployUnderAttackAsync(holdIdleConnections: false);

    /// <summary>The same, while the hostile host also holds 70 idle connections to the depot's peer port, opening a new one for each closed.</summary>
    [Fact]
    public Task TwoTargetsDeployATlsImageBitExactWhileAHostileHostHolds70IdleConnectionsToTheDepot() =>
        DeployUnderAttackAsync(holdIdleConnections: true);

    private async Task DeployUnderAttackAsync(bool holdIdleConnections)
    {
        Requires.Linux();
        Requires.Root();
        Requires.Program("ip", "iproute2");
        LoopDevice.Require();
        CancellationToken ct = TestContext.Current.CancellationToken;
        var image = new TestImage { Length = 8 << 20, Seed = 1605 };
        byte[] expected = image.ToArray();
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        string imagePath = Path.Combine(images, "disk.img");
        await image.WriteFileAsync(imagePath, ct);
        byte[] imageHash = SHA256.HashData(await File.ReadAllBytesAsync(imagePath, ct));

        // Each target's disk is larger than the image, and starts full of noise: what lies beyond the image must stay.
        const long DiskLength = 12 << 20;
        byte[][] noise = [RandomNumberGenerator.GetBytes((int)DiskLength), RandomNumberGenerator.GetBytes((int)DiskLength)];
        await File.WriteAllBytesAsync(_dir.File("disk1.img"), noise[0], ct);
        await File.WriteAllBytesAsync(_dir.File("disk2.img"), noise[1], ct);
        await using LoopDevice disk1 = await LoopDevice.AttachAsync(_dir.File("disk1.img"));
        await using LoopDevice disk2 = await LoopDevice.AttachAsync(_dir.File("disk2.img"));

        await using var lan = await Lan.CreateAsync(ct);
        IPAddress depotAddress = lan.Address(0);
        const string Token = "trust16-fleet-token";

        await using ServiceProcess depot = ServiceProcess.Start(
        [
            "--BlockTorrent:Role=Depot", $"--BlockTorrent:Depot:ImageFolder={images}", $"--BlockTorrent:StateDirectory={_dir.File("depot-state")}",
            "--BlockTorrent:Depot:SettleTime=00:00:00", "--BlockTorrent:Depot:PieceSize=65536",
            $"--BlockTorrent:Depot:TrackerHost={depotAddress}", "--BlockTorrent:Depot:Fleet=0.0.0.0:8582", $"--BlockTorrent:StatusToken={Token}",
            "--Logging:LogLevel:BlockTorrent.Service=Information", "--contentRoot", _dir.Path,
        ], lan.Hosts[0]);
        await depot.WaitForOutputAsync("Depot: seeding disk.img", Bound);
        await depot.WaitForOutputAsync("Depot: HTTPS certificate", Bound);
        string fingerprint = HttpsFingerprint().Match(depot.Output).Groups[1].Value;
        TorrentManifest manifest = TorrentManifest.Load(Path.Combine(images, "disk.img.torrent"));
        Assert.NotNull(manifest.SwarmAuthority);
        Assert.Single(manifest.Signatures);
        InfoHash infoHash = manifest.InfoHashV1!.Value;

        // The hostile host starts before the targets and keeps on until both are done.
        var attacker = new HostileHost(lan.Hosts[3], lan.Address(3));
        using var stopAttack = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task attacks = AttackAsync(attacker, lan, infoHash, holdIdleConnections, stopAttack.Token);

        ServiceProcess[] targets = [StartTarget(lan, 1, disk1, fingerprint, Token), StartTarget(lan, 2, disk2, fingerprint, Token)];
        try
        {
            foreach (ServiceProcess target in targets)
            {
                await target.WaitForOutputAsync("Target: disk.img is on", Bound);
            }

            // What the hostile host does over HTTP, with the deployment done and the fleet shown.
            string depotUrl = $"https://{depotAddress}:8580";
            Assert.Equal(401, await attacker.GetAsync($"http://{depotAddress}:8582/fleet", ct));
            Assert.Equal(401, await attacker.GetAsync($"http://{depotAddress}:8582/fleet/events", ct));
            Assert.Equal(401, await attacker.PostAsync($"{depotUrl}/fleet/report", $$"""{"peerId":"2d5858303030","infoHash":"{{infoHash.ToHex()}}","state":"done","host":"forged"}""", ct));
            Assert.Equal(401, await attacker.PostAsync($"{depotUrl}/enroll", SigningRequest(), token: null, ct));
            Assert.Equal(401, await attacker.PostAsync($"{depotUrl}/ENROLL", SigningRequest(), token: null, ct));
            Assert.Equal(401, await attacker.PostAsync($"{depotUrl}/enroll", SigningRequest(), token: "guessed", ct));
            Assert.DoesNotContain(attacker.Everything, d => d.AsSpan().IndexOf("CERTIFICATE"u8) >= 0);
            Assert.Equal(404, await attacker.GetAsync($"{depotUrl}/images/disk.img", ct));
            Assert.NotEqual(200, await attacker.GetAsync($"{depotUrl}/status", ct));
            Assert.NotEqual(200, await attacker.GetAsync($"{depotUrl}/metrics", ct));
            Assert.True(await attacker.GetAsync($"http://{depotAddress}:6969/scrape", ct) is not 200 || !attacker.Everything.Any(d => d.AsSpan().IndexOf(infoHash.Truncated20) >= 0), "a scrape lists no torrent");

            // The manifest is open by design (its trust comes from signatures, pinning and HTTPS): it holds hashes and the authority's certificate, no image byte.
            Assert.Equal(200, await attacker.GetAsync($"{depotUrl}/images/disk.img.torrent", ct));
        }
        finally
        {
            await stopAttack.CancelAsync();
            await attacks;
            foreach (ServiceProcess target in targets)
            {
                await target.DisposeAsync();
            }
        }

        var probe = new HostileHost(lan.Hosts[3], attacker.Address);
        probe.KeepReceived(expected.AsSpan(1000, 4096).ToArray());
        Assert.True(probe.ImageBytesReceived(expected) >= 4000, "the count finds image bytes where there are some");
        Assert.Equal(0, attacker.ImageBytesReceived(expected));
        Assert.Equal(0, attacker.PeerProtocolBytes);
        byte[] written1 = disk1.ReadBackingFile();
        byte[] written2 = disk2.ReadBackingFile();
        Assert.True(expected.AsSpan().SequenceEqual(written1.AsSpan(0, expected.Length)), "the first target holds the image");
        Assert.True(expected.AsSpan().SequenceEqual(written2.AsSpan(0, expected.Length)), "the second target holds the image");
        Assert.True(noise[0].AsSpan(expected.Length).SequenceEqual(written1.AsSpan(expected.Length)), "nothing beyond the image changed on the first disk");
        Assert.True(noise[1].AsSpan(expected.Length).SequenceEqual(written2.AsSpan(expected.Length)), "nothing beyond the image changed on the second disk");
        Assert.Equal(imageHash, SHA256.HashData(await File.ReadAllBytesAsync(imagePath, ct)));
        Assert.DoesNotContain("banned peer", depot.Output, StringComparison.Ordinal);
    }

    /// <summary>Every attack at once, against the depot and both targets, until cancelled.</summary>
    private static async Task AttackAsync(HostileHost attacker, Lan lan, InfoHash infoHash, bool holdIdleConnections, CancellationToken cancellationToken)
    {
        using X509Certificate2 stranger = SwarmCertificates.CreateAuthority("stranger", TimeSpan.FromDays(1));
        using X509Certificate2 issued = SwarmCertificates.Issue(stranger, SwarmCertificates.AnyTorrent, TimeSpan.FromDays(1));
        using X509Certificate2 foreign = X509CertificateLoader.LoadPkcs12(issued.Export(X509ContentType.Pkcs12), password: null);
        IPEndPoint[] peers = [new(lan.Address(0), 6881), new(lan.Address(1), 6881), new(lan.Address(2), 6881)];

        // A "seed" of another authority, announced to the depot's tracker from many ports, for the targets to dial.
        using TcpListener fakeSeed = lan.Hosts[3].Enter(() => new TcpListener(IPAddress.Any, 6881));
        fakeSeed.Start();
        var tasks = new List<Task> { attacker.ServeAsFakeSeedAsync(fakeSeed, foreign, cancellationToken) };
        if (holdIdleConnections)
        {
            tasks.Add(attacker.HoldIdleAsync(peers[0], 70, cancellationToken));
        }

        tasks.Add(Task.Run(
            async () =>
            {
                string hash = Uri.EscapeDataString(System.Text.Encoding.Latin1.GetString(infoHash.Truncated20));
                foreach (int port in Enumerable.Range(6881, 40))
                {
                    using HttpClient http = attacker.Http();
                    try
                    {
                        attacker.KeepReceived(await http.GetByteArrayAsync($"http://{lan.Address(0)}:6969/announce?info_hash={hash}&peer_id=-XX0001-{port:D12}&port={port}&uploaded=0&downloaded=0&left=0&compact=1", cancellationToken));
                    }
                    catch (HttpRequestException)
                    {
                        // Refused beyond the address's share: that is the defence.
                    }
                }
            },
            CancellationToken.None));

        // Repeated until the end: in the clear, over TLS without a certificate, and with one of another authority.
        foreach (IPEndPoint peer in peers)
        {
            tasks.Add(RepeatAsync(() => attacker.PlainPeerAsync(peer, infoHash, cancellationToken), cancellationToken));
            tasks.Add(RepeatAsync(() => attacker.TlsPeerAsync(peer, infoHash, null, cancellationToken), cancellationToken));
            tasks.Add(RepeatAsync(() => attacker.TlsPeerAsync(peer, infoHash, foreign, cancellationToken), cancellationToken));
        }

        try
        {
            await Task.WhenAll(tasks);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The attack is over.
        }
    }

    private static async Task RepeatAsync(Func<Task> attack, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await attack();
            await Task.Delay(50, CancellationToken.None);
        }
    }

    /// <summary>A PKCS#10 request for a key of the hostile host's own, as a target would send it.</summary>
    private static ByteArrayContent SigningRequest()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var content = new ByteArrayContent(new CertificateRequest("CN=evil", key, HashAlgorithmName.SHA256).CreateSigningRequest());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pkcs10");
        return content;
    }

    /// <summary>A target as the README configures one: the depot's URL, its HTTPS fingerprint and the fleet token; it enrols for the rest.</summary>
    private ServiceProcess StartTarget(Lan lan, int host, LoopDevice disk, string fingerprint, string token) => ServiceProcess.Start(
    [
        "--BlockTorrent:Role=Target", $"--BlockTorrent:Target:Image=https://{lan.Address(0)}:8580/images/disk.img.torrent",
        $"--BlockTorrent:Target:ServerFingerprint={fingerprint}", $"--BlockTorrent:Target:Device={disk.Path}",
        $"--BlockTorrent:Target:ReportToken={token}",
        $"--BlockTorrent:StateDirectory={_dir.File($"state{host}")}", "--Logging:LogLevel:BlockTorrent.Service=Information", "--contentRoot", _dir.Path,
    ], lan.Hosts[host]);

    [GeneratedRegex("HTTPS certificate .*?fingerprint (SHA256:[0-9a-f]{64})")]
    private static partial Regex HttpsFingerprint();

    /// <summary>
    /// Four hosts on one LAN: namespaces named <c>trust16-…</c>, host 0 (the depot) holding a bridge the other three
    /// join by veth pairs, addresses <c>10.231.116.1</c> to <c>.4</c>. Everything is deleted by name on dispose.
    /// </summary>
    private sealed class Lan : IAsyncDisposable
    {
        private Lan(List<NetworkNamespace> hosts) => Hosts = hosts;

        public List<NetworkNamespace> Hosts { get; }

        public IPAddress Address(int host) => IPAddress.Parse($"{Subnet}.{host + 1}");

        public static async Task<Lan> CreateAsync(CancellationToken cancellationToken)
        {
            var lan = new Lan([]);
            try
            {
                foreach (string role in new[] { "depot", "t1", "t2", "evil" })
                {
                    lan.Hosts.Add(await NetworkNamespace.CreateAsync($"trust16-{role}", cancellationToken));
                }

                NetworkNamespace depot = lan.Hosts[0];
                await depot.IpAsync(cancellationToken, "link", "add", "br16", "type", "bridge");
                await depot.IpAsync(cancellationToken, "addr", "add", $"{Subnet}.1/24", "dev", "br16");
                await depot.IpAsync(cancellationToken, "link", "set", "br16", "up");
                string suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2));
                for (int host = 1; host < lan.Hosts.Count; host++)
                {
                    string near = $"t16{suffix}b{host}";
                    string far = $"t16{suffix}h{host}";
                    (await ExternalProgram.RunAsync(Requires.Program("ip", "iproute2"), ["link", "add", near, "netns", depot.Name, "type", "veth", "peer", "name", far, "netns", lan.Hosts[host].Name], TimeSpan.FromSeconds(30), null, cancellationToken)).EnsureSuccess("ip link add");
                    await depot.IpAsync(cancellationToken, "link", "set", near, "master", "br16", "up");
                    await lan.Hosts[host].IpAsync(cancellationToken, "addr", "add", $"{Subnet}.{host + 1}/24", "dev", far);
                    await lan.Hosts[host].IpAsync(cancellationToken, "link", "set", far, "up");
                }

                return lan;
            }
            catch
            {
                await lan.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (NetworkNamespace host in Hosts)
            {
                await host.DisposeAsync();
            }
        }
    }
}
