using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class CongestionControlTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task AnAlgorithmTheKernelDoesNotOfferIsAUsageErrorListingTheOnesItDoes()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "--congestion-control names a Linux algorithm.");
        string image = SampleImage.Write(_dir.File("disk.img"), 1 << 20);
        CliResult created = await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB");
        Assert.True(created.ExitCode == 0, created.ToString());

        CliResult seed = await CliRun.RunAsync("seed", _dir.File("disk.torrent"), "--source", image, "--listen", "127.0.0.1:0", "--congestion-control", "nosuchcc");
        Assert.Equal(2, seed.ExitCode);
        Assert.StartsWith("blocktorrent: error: --congestion-control: ", seed.Error, StringComparison.Ordinal);
        Assert.Contains("'nosuchcc'", seed.Error, StringComparison.Ordinal);
        Assert.Contains("reno", seed.Error, StringComparison.Ordinal);
    }
}
