using BlockTorrent.Interop.Tests.Clients;
using BlockTorrent.Interop.Tests.Swarm;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using static BlockTorrent.Interop.Tests.Discovery.LinkedNamespaces;

namespace BlockTorrent.Interop.Tests.Discovery;

/// <summary>
/// A BlockTorrent target finds its seed by Local Service Discovery alone (no tracker, no peer given) and deploys
/// bit-exact: from a BlockTorrent seed and from a libtorrent seed. Each side runs as its own process inside its own
/// network namespace (the <c>blocktorrent</c> command with <c>--lsd</c>), joined by a veth link; the target starts
/// first, so the seed's first announce reaches it.
/// </summary>
public sealed class LocalDiscoveryDeployTests
{
    private const long ImageLength = (3 * 1024 * 1024) + 4321;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(TestImageShape.Dense, false)]
    [InlineData(TestImageShape.ZeroRuns, false)]
    [InlineData(TestImageShape.Duplicates, false)]
    [InlineData(TestImageShape.ZerosAndDuplicates, false)]
    [InlineData(TestImageShape.Duplicates, true)]
    [InlineData(TestImageShape.ZerosAndDuplicates, true)]
    public async Task ATargetFindsABlockTorrentSeedByLocalServiceDiscoveryAloneAndDeploysBitExact(TestImageShape shape, bool superSeed)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using LinkedNamespaces link = await CreateAsync(ct);
        using var dir = new TempDirectory();
        var (image, _, torrent) = await InteropImages.CreateAsync(dir, TestImage.Realistic(shape, InteropImages.PieceLength, 48, seed: 41), TorrentVersions.Hybrid);
        string source = dir.File("image.raw");
        await File.WriteAllBytesAsync(source, image, ct);
        string target = dir.File("target.img");

        await using RunningProgram deploy = await StartDeployAsync(link.B, torrent, target, ct);
        string[] seeding = ["seed", torrent, "--source", source, "--lsd", "--listen", $"{AddressA}:6881"];
        await using RunningProgram seed = BlockTorrentCli.Start(link.A, superSeed ? [.. seeding, "--super-seed"] : seeding);

        int exitCode = await deploy.WaitForExitAsync(Bound, ct);
        Assert.True(exitCode == 0, $"deploy exited with {exitCode}:\n{deploy.Output}\nseed:\n{seed.Output}");
        byte[] deployed = await File.ReadAllBytesAsync(target, ct);
        Assert.True(image.AsSpan().SequenceEqual(deployed), "the deployed image differs");
    }

    [Fact]
    public async Task ATargetFindsALibtorrentSeedByLocalServiceDiscoveryAloneAndDeploysBitExact()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Requires.PythonLibtorrent();
        await using LinkedNamespaces link = await CreateAsync(ct);
        using var dir = new TempDirectory();
        (_, string torrent) = await LibtorrentPeer.MakeTorrentAsync(dir.Path, (int)ImageLength, tracker: null, ct);
        string target = dir.File("target.img");

        await using RunningProgram deploy = await StartDeployAsync(link.B, torrent, target, ct);
        await using LibtorrentPeer seed = await LibtorrentPeer.StartAsync("seed", dir.Path, torrent, $"{AddressA}:6890", lsd: true, link.A, ct);

        int exitCode = await deploy.WaitForExitAsync(Bound, ct);
        Assert.True(exitCode == 0, $"deploy exited with {exitCode}:\n{deploy.Output}\nlibtorrent:\n{seed.Output}");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(dir.Path, "payload.bin"), ct), await File.ReadAllBytesAsync(target, ct));
    }

    [Fact]
    public async Task ATargetStartingFromAMagnetLinkFindsItsSeedByLocalServiceDiscoveryAloneAndDeploysBitExact()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using LinkedNamespaces link = await CreateAsync(ct);
        using var dir = new TempDirectory();
        var (image, manifest, torrent) = await InteropImages.CreateAsync(dir, ImageLength, seed: 42, TorrentVersions.Hybrid);
        string source = dir.File("image.raw");
        await File.WriteAllBytesAsync(source, image, ct);
        string target = dir.File("target.img");

        // The metadata and then the pieces come from the one seed LSD found: the deployment after the fetch is
        // given the peers LSD heard for the fetch, rather than waiting minutes for the seed's next announce.
        await using RunningProgram deploy = await StartDeployAsync(link.B, MagnetLink.FromManifest(manifest).ToString(), target, ct);
        await using RunningProgram seed = BlockTorrentCli.Start(link.A, "seed", torrent, "--source", source, "--lsd", "--listen", $"{AddressA}:6881");

        int exitCode = await deploy.WaitForExitAsync(Bound, ct);
        Assert.True(exitCode == 0, $"deploy exited with {exitCode}:\n{deploy.Output}\nseed:\n{seed.Output}");
        byte[] deployed = await File.ReadAllBytesAsync(target, ct);
        Assert.True(image.AsSpan().SequenceEqual(deployed), "the deployed image differs");
    }

    [Fact]
    public async Task ASeedStartedBeforeItsNetworkHasAnAddressIsFoundOnceTheAddressArrivesAndTheTargetDeploysBitExact()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using LinkedNamespaces link = await CreateWithoutAddressOnBAsync(ct);
        using var dir = new TempDirectory();
        var (image, _, torrent) = await InteropImages.CreateAsync(dir, ImageLength, seed: 43, TorrentVersions.Hybrid);
        string source = dir.File("image.raw");
        await File.WriteAllBytesAsync(source, image, ct);
        string target = dir.File("target.img");

        // The seed is a machine that booted before its network: its interface has no address, so nothing can be joined yet.
        await using RunningProgram deploy = await StartDeployAsync(link.A, torrent, target, ct, AddressA);
        await using RunningProgram seed = BlockTorrentCli.Start(link.B, "seed", torrent, "--source", source, "--lsd", "--listen", "0.0.0.0:6881");
        await WaitForLsdSocketAsync(link.B, seed, "the seed", ct);
        await link.AddAddressOnBAsync(System.Net.Sockets.AddressFamily.InterNetwork, ct);

        int exitCode = await deploy.WaitForExitAsync(Bound, ct);
        Assert.True(exitCode == 0, $"deploy exited with {exitCode}:\n{deploy.Output}\nseed:\n{seed.Output}");
        byte[] deployed = await File.ReadAllBytesAsync(target, ct);
        Assert.True(image.AsSpan().SequenceEqual(deployed), "the deployed image differs");
    }

    /// <summary>Starts <c>blocktorrent deploy --lsd</c> in <paramref name="ns"/> and waits until it listens on the LSD port.</summary>
    private static async Task<RunningProgram> StartDeployAsync(NetworkNamespace ns, string source, string target, CancellationToken ct, System.Net.IPAddress? listen = null)
    {
        RunningProgram deploy = BlockTorrentCli.Start(ns, "deploy", source, "--target", target, "--lsd", "--listen", $"{listen ?? AddressB}:6881", "--timeout", "60s");
        try
        {
            await WaitForLsdSocketAsync(ns, deploy, "the deployment", ct);
            return deploy;
        }
        catch
        {
            await deploy.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <paramref name="program"/> has its socket on the LSD port in <paramref name="ns"/>.</summary>
    private static async Task WaitForLsdSocketAsync(NetworkNamespace ns, RunningProgram program, string what, CancellationToken ct)
    {
        string ss = Requires.Program("ss", "iproute2");
        await Eventually.TrueAsync(
            () => program.HasExited || ns.ExecAsync(ss, ["-Hlun", "sport = :6771"], TimeSpan.FromSeconds(10), ct).GetAwaiter().GetResult().StandardOutput.Length > 0,
            TimeSpan.FromSeconds(30),
            () => $"{what} to open its LSD socket; it said:\n{program.Output}",
            ct);
        Assert.False(program.HasExited, $"{what} exited early:\n{program.Output}");
    }
}
