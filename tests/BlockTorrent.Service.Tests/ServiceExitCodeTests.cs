using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>The exit codes systemd sees: the service run as a process and stopped as <c>systemctl stop</c> stops it.</summary>
public sealed class ServiceExitCodeTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ADepotStoppedWithSigtermExitsWithZero()
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(Path.Combine(images, "disk.img"), TestContext.Current.CancellationToken);
        await using ServiceProcess depot = ServiceProcess.Start([.. ServiceProcess.Loopback(_dir, "Depot"), $"--BlockTorrent:Depot:ImageFolder={images}"]);
        await depot.WaitForOutputAsync("Depot: seeding disk.img", Bound);

        await depot.TerminateAsync();

        Assert.True(await depot.WaitForExitAsync(Bound) == 0, depot.Output);
    }

    [Fact]
    public async Task ATargetStoppedWithSigtermWhileSeedingExitsWithZero()
    {
        var image = new TestImage { Length = 2 << 20, Seed = 3 };
        string torrent = await WriteImageAndManifestAsync(image);
        await using ServiceProcess seed = ServiceProcess.Start([.. ServiceProcess.Loopback(_dir, "Target"), $"--BlockTorrent:Target:Image={torrent}", $"--BlockTorrent:Target:Device={_dir.File("disk.img")}", $"--BlockTorrent:StateDirectory={_dir.File("state")}"]);
        await seed.WaitForOutputAsync("Target: seeding disk.img", Bound);

        await seed.TerminateAsync();

        Assert.True(await seed.WaitForExitAsync(Bound) == 0, seed.Output);
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("disk.img"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ATargetStoppedWithSigtermWhileItWaitsForTheDepotExitsWithZero()
    {
        await using ServiceProcess target = ServiceProcess.Start([.. ServiceProcess.Loopback(_dir, "Target"), "--BlockTorrent:Target:Image=https://127.0.0.1:9/images/disk.img.torrent", $"--BlockTorrent:Target:Device={_dir.File("target.img")}", $"--BlockTorrent:StateDirectory={_dir.File("state")}", "--BlockTorrent:Target:RetryInterval=00:00:00.200"]);
        await target.WaitForOutputAsync("retrying in", Bound);

        await target.TerminateAsync();

        Assert.True(await target.WaitForExitAsync(Bound) == 0, target.Output);
    }

    [Fact]
    public async Task ATargetWhoseDeviceCannotBeWrittenExitsWithOneByItself()
    {
        string torrent = await WriteImageAndManifestAsync(new TestImage { Length = 1 << 20 });
        string folder = Directory.CreateDirectory(_dir.File("a-folder")).FullName;
        await using ServiceProcess target = ServiceProcess.Start([.. ServiceProcess.Loopback(_dir, "Target"), $"--BlockTorrent:Target:Image={torrent}", $"--BlockTorrent:Target:Device={folder}", $"--BlockTorrent:StateDirectory={_dir.File("state")}"]);

        Assert.True(await target.WaitForExitAsync(Bound) == 1, target.Output);
        Assert.Contains("is a directory", target.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADepotWhoseTrackerAddressIsTakenExitsWithOneSayingSo()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        await using ServiceProcess depot = ServiceProcess.Start([.. ServiceProcess.Loopback(_dir, "Depot"), $"--BlockTorrent:Depot:ImageFolder={_dir.Path}", $"--BlockTorrent:Depot:Tracker={taken.LocalEndpoint}"]);

        Assert.True(await depot.WaitForExitAsync(Bound) == 1, depot.Output);
        Assert.Contains("Depot: cannot serve", depot.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADepotWhoseManifestsAddressIsNotAnEndPointExitsWithTwoNamingTheSetting()
    {
        await using ServiceProcess depot = ServiceProcess.Start([.. ServiceProcess.Loopback(_dir, "Depot"), $"--BlockTorrent:Depot:ImageFolder={_dir.Path}", "--BlockTorrent:Depot:Manifests=depot:8580"]);

        Assert.True(await depot.WaitForExitAsync(Bound) == 2, depot.Output);
        Assert.Contains("stderr:   BlockTorrent:Depot:Manifests 'depot:8580' is not ADDR:PORT", depot.Output, StringComparison.Ordinal);
    }

    /// <summary>Writes <paramref name="image"/> as disk.img with its manifest beside it; returns the manifest's path.</summary>
    private async Task<string> WriteImageAndManifestAsync(TestImage image)
    {
        string path = _dir.File("disk.img");
        await image.WriteFileAsync(path, TestContext.Current.CancellationToken);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(path, new ManifestBuilderOptions { PieceLength = 64 << 10 }, TestContext.Current.CancellationToken);
        string torrent = _dir.File("disk.torrent");
        await manifest.SaveAsync(torrent, TestContext.Current.CancellationToken);
        return torrent;
    }
}
