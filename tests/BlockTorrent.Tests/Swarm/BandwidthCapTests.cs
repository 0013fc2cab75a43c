using System.Diagnostics;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// The caps measured on real connections over loopback (a user-space limiter gains nothing from a namespace's link):
/// the rate the target sees over ten seconds, after the first second, is the cap to within 5 %.
/// </summary>
public sealed class BandwidthCapTests
{
    private const long Cap = 2 * 1024 * 1024;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    public enum Capped
    {
        /// <summary>The seeding client's <see cref="BlockTorrentClientOptions.MaxUploadRate"/>.</summary>
        ClientUpload,

        /// <summary>The seed's own <see cref="SeedOptions.MaxUploadRate"/> (a depot's cap per image).</summary>
        ImageUpload,

        /// <summary>The deploying client's <see cref="BlockTorrentClientOptions.MaxDownloadRate"/>.</summary>
        ClientDownload,
    }

    [Theory]
    [InlineData(Capped.ClientUpload)]
    [InlineData(Capped.ImageUpload)]
    [InlineData(Capped.ClientDownload)]
    public async Task ACapHoldsTheRateWithinFivePercentOverTenSeconds(Capped capped)
    {
        // Enough for the window, the first second and a margin at the cap; no zero or duplicate pieces.
        byte[] image = new byte[14 * Cap];
        new Random(18).NextBytes(image);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), new ManifestBuilderOptions { PieceLength = 256 * 1024, Name = "capped.raw" }, TestContext.Current.CancellationToken);

        BlockTorrentClientOptions seederOptions = SwarmTestImages.Loopback();
        BlockTorrentClientOptions deployerOptions = SwarmTestImages.Loopback();
        var seedOptions = new SeedOptions();
        switch (capped)
        {
            case Capped.ClientUpload:
                seederOptions.MaxUploadRate = Cap;
                break;
            case Capped.ImageUpload:
                seedOptions.MaxUploadRate = Cap;
                break;
            default:
                deployerOptions.MaxDownloadRate = Cap;
                break;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromMinutes(2));
        await using var seeder = new BlockTorrentClient(seederOptions);
        await using var deployer = new BlockTorrentClient(deployerOptions);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), seedOptions, cts.Token);
        var target = new MemoryBlockDevice(manifest.Length);
        var samples = new Samples();
        DeploymentResult result = await deployer.DeployAsync(manifest, target, SwarmTestImages.From(seeder.LocalEndPoint), samples, cts.Token);

        Assert.Equal(image, target.Contents.ToArray());
        double rate = samples.RateOver(firstBytes: Cap, Window);
        Assert.InRange(rate, Cap * 0.95, Cap * 1.05);
        Assert.True(result.Duration >= TimeSpan.FromSeconds(12), $"the whole image came in {result.Duration}");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    /// <summary>The bytes downloaded, taken the moment each progress report arrives.</summary>
    private sealed class Samples : IProgress<DeploymentProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<(TimeSpan At, long Bytes)> _samples = [];

        public void Report(DeploymentProgress value)
        {
            lock (_samples)
            {
                _samples.Add((_clock.Elapsed, value.BytesDownloaded));
            }
        }

        /// <summary>The rate from the first report past <paramref name="firstBytes"/> to the first one a window later.</summary>
        public double RateOver(long firstBytes, TimeSpan window)
        {
            lock (_samples)
            {
                (TimeSpan startAt, long startBytes) = _samples.First(s => s.Bytes >= firstBytes);
                (TimeSpan endAt, long endBytes) = _samples.First(s => s.At >= startAt + window);
                return (endBytes - startBytes) / (endAt - startAt).TotalSeconds;
            }
        }
    }
}
