using System.Text.Json;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

/// <summary>The commands on real Linux block devices: loop devices over files in a temporary folder, always detached.</summary>
public sealed class LoopDeviceTests : IDisposable
{
    private const int ImageLength = 4 << 20;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task DeployOntoALoopDeviceIsBitExact()
    {
        LoopDevice.Require();
        string image = await CreateAsync();
        await using LoopDevice loop = await LoopDevice.CreateAsync(_dir, 8 << 20, name: "device.img");
        CliResult deploy;
        await using (LibrarySeed seed = LibrarySeed.Start(_dir.File("disk.torrent"), image))
        {
            deploy = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", loop.Path, "--peer", seed.EndPoint, "--listen", "127.0.0.1:0", "--resume-file", _dir.File("loop.resume"), "--verify", "--timeout", "2m");
        }

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Equal(File.ReadAllBytes(image), loop.ReadBackingFile().AsSpan(0, ImageLength).ToArray());
        Assert.Equal(0, (await CliRun.RunAsync("verify", _dir.File("disk.torrent"), "--target", loop.Path)).ExitCode);
    }

    [Fact]
    public async Task DeployOntoAMountedLoopDeviceIsRefusedWithFourAndOneLineNamingTheMount()
    {
        LoopDevice.Require();
        await CreateAsync();
        await using LoopDevice loop = await LoopDevice.CreateAsync(_dir, 8 << 20, name: "device.img");
        string mountPoint = _dir.File("mnt");
        await loop.MountExt4Async(mountPoint);

        CliResult result = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", loop.Path, "--listen", "127.0.0.1:0", "--resume-file", _dir.File("loop.resume"));

        Assert.Equal(4, result.ExitCode);
        string line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(loop.Path, line, StringComparison.Ordinal);
        Assert.Contains(mountPoint, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeployOntoALoopDeviceSmallerThanTheImageIsRefusedWithFour()
    {
        LoopDevice.Require();
        await CreateAsync();
        await using LoopDevice loop = await LoopDevice.CreateAsync(_dir, 1 << 20, name: "device.img");

        CliResult result = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", loop.Path, "--listen", "127.0.0.1:0", "--resume-file", _dir.File("loop.resume"), "--force");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains(loop.Path, result.Error, StringComparison.Ordinal);
        Assert.Contains(ImageLength.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Error, StringComparison.Ordinal);
        Assert.Equal(new byte[1 << 20], loop.ReadBackingFile());
    }

    [Fact]
    public async Task DevicesJsonListsTheLoopDeviceWithItsSizeAndBackingFile()
    {
        LoopDevice.Require();
        await using LoopDevice loop = await LoopDevice.CreateAsync(_dir, 8 << 20, name: "device.img");

        CliResult result = await CliRun.RunAsync("devices", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        JsonElement device = JsonDocument.Parse(result.Output).RootElement.EnumerateArray().Single(d => d.GetProperty("path").GetString() == loop.Path);
        Assert.Equal(8 << 20, device.GetProperty("size").GetInt64());
        Assert.Equal(loop.BackingFile, device.GetProperty("backingFile").GetString());
        Assert.True(device.GetProperty("safeToImage").GetBoolean(), device.ToString());
    }

    [Fact]
    public async Task AReadOnlyLoopDeviceHoldingTheImageCreatesTheSameManifestVerifiesAndSeedsADeploy()
    {
        LoopDevice.Require();
        string image = await CreateAsync();
        string sourceFile = _dir.File("source.img");
        File.Copy(image, sourceFile);
        await using LoopDevice source = await LoopDevice.AttachAsync(sourceFile, readOnly: true);

        CliResult create = await CliRun.RunAsync("create", source.Path, "-o", _dir.File("device.torrent"), "--piece-size", "64KiB", "--name", "disk.img");
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal(InfoHashes(await CliRun.RunAsync("info", _dir.File("disk.torrent"), "--json")), InfoHashes(await CliRun.RunAsync("info", _dir.File("device.torrent"), "--json")));
        Assert.Equal(0, (await CliRun.RunAsync("verify", _dir.File("disk.torrent"), "--target", source.Path)).ExitCode);

        int seedPort = Ports.Free();
        using var stopSeed = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task<CliResult> seed = CliRun.RunUntilAsync(stopSeed.Token, "seed", _dir.File("disk.torrent"), "--source", source.Path, "--listen", $"127.0.0.1:{seedPort}");
        CliResult deploy = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", $"127.0.0.1:{seedPort}", "--listen", $"127.0.0.1:{Ports.Free()}", "--timeout", "2m");
        await stopSeed.CancelAsync();
        CliResult seeded = await seed;

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(_dir.File("target.img")));
        Assert.True(seeded.ExitCode == 0, seeded.ToString());
    }

    private static string InfoHashes(CliResult info)
    {
        Assert.True(info.ExitCode == 0, info.ToString());
        JsonElement root = JsonDocument.Parse(info.Output).RootElement;
        return $"{root.GetProperty("infoHashV1")} {root.GetProperty("infoHashV2")}";
    }

    /// <summary>Makes disk.img and disk.torrent (64 KiB pieces); returns the image's path.</summary>
    private async Task<string> CreateAsync()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        Assert.Equal(0, (await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB")).ExitCode);
        return image;
    }
}
