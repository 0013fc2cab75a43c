using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using BlockTorrent.Devices;
using BlockTorrent.Devices.Linux;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Swarm;

/// <summary>Web seeds (BEP 19) served by an HTTP server nobody here wrote: busybox httpd, which answers range requests.</summary>
[SupportedOSPlatform("linux")]
public sealed class WebSeedInteropTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task ALoneTargetDeploysBitExactOntoALoopDeviceFromBusyboxHttpdAsTheManifestsWebSeed()
    {
        Requires.Root();
        string busybox = Requires.Program("busybox", "busybox");
        using var dir = new TempDirectory();
        byte[] image = new TestImage { Length = (3 * 1024 * 1024) + 4608, Seed = 41, BlockSize = InteropImages.PieceLength }.ToArray();
        string served = Directory.CreateDirectory(dir.File("www")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(served, "image.raw"), image, TestContext.Current.CancellationToken);
        int port = FreePort();
        await using var httpd = new RunningProgram(busybox, ["httpd", "-f", "-p", $"127.0.0.1:{port}", "-h", served]);
        await Eventually.TrueAsync(() => Accepts(port), TimeSpan.FromSeconds(10), "busybox httpd listening", TestContext.Current.CancellationToken);

        // A folder URL: the client appends the torrent's name (BEP 19, single-file torrents).
        var options = new ManifestBuilderOptions { PieceLength = InteropImages.PieceLength, Name = "image.raw" };
        options.WebSeeds.Add($"http://127.0.0.1:{port}/");
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), options, TestContext.Current.CancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var deployer = new BlockTorrentClient(InteropImages.Loopback());
        await using LoopDevice loop = await LoopDevice.CreateAsync(dir, image.Length, name: "target.img");

        DeploymentResult result;
        await using (LinuxBlockDevice target = LinuxBlockDevice.Open(loop.Path))
        {
            result = await deployer.DeployAsync(manifest, target, new DeployOptions { WebSeedDelay = TimeSpan.Zero }, null, cts.Token);
        }

        Assert.True(image.AsSpan().SequenceEqual(loop.ReadBackingFile().AsSpan(0, image.Length)), $"the deployed image differs\n{httpd.Output}");
        Assert.Equal(0, result.HashFailures);
        Assert.True(result.BytesDownloaded > 0);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
