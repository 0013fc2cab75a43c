using System.Globalization;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

/// <summary>
/// "golden.img updated in place": a 32 MiB image overwritten 1 MiB in place after its manifest was made, seeded and
/// deployed by the command as separate processes, as an operator runs them.
/// </summary>
public sealed class ChangedSourceTests : IDisposable
{
    private const int ImageLength = 32 << 20;
    private const int PieceLength = 256 << 10;

    // Inside the image's random, never duplicated half: pieces 40 to 43.
    private const int ChangedOffset = 10 << 20;
    private const int ChangedLength = 1 << 20;
    private const string ChangedPieces = "40-43";

    private const int StallSeconds = 10;

    // The stall bound, plus the time to fetch the rest of the image and start two processes on a busy machine.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(StallSeconds + 50);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ASeedWhoseImageChangedNamesTheChangedPiecesAndTheTargetStopsWithSevenWithinTheStallBound()
    {
        string torrent = await CreateChangedImageAsync();
        int port = Ports.Free();
        await using RunningProgram seed = StartCli("seed", torrent, "--source", _dir.File("disk.img"), "--listen", $"127.0.0.1:{port}");

        await using RunningProgram deploy = StartCli(DeployArguments(torrent, port));
        int exitCode = await deploy.WaitForExitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.True(exitCode == 7, $"deploy exited with {exitCode}:\n{deploy.Output}\nthe seed said:\n{seed.Output}");
        Assert.Contains($"pieces {ChangedPieces}", deploy.Output, StringComparison.Ordinal);
        foreach (int piece in Enumerable.Range(40, 4))
        {
            Assert.Contains($"NO LONGER MATCHES ITS MANIFEST: piece {piece.ToString(CultureInfo.InvariantCulture)} ", seed.Output, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("banned", deploy.Output.Replace("banned peers: none", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATargetThatBansASeedTrustingItsChangedImageSaysWhyAndStopsWithSevenWithinTheStallBound()
    {
        string torrent = await CreateChangedImageAsync();
        int port = Ports.Free();
        await using RunningProgram seed = StartCli("seed", torrent, "--source", _dir.File("disk.img"), "--listen", $"127.0.0.1:{port}", "--trust-source");

        await using RunningProgram deploy = StartCli(DeployArguments(torrent, port));
        int exitCode = await deploy.WaitForExitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.True(exitCode == 7, $"deploy exited with {exitCode}:\n{deploy.Output}\nthe seed said:\n{seed.Output}");
        Assert.Contains($"banned peers: 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}: sent 3 pieces that failed their hash check", deploy.Output, StringComparison.Ordinal);
        Assert.Contains("no peer can supply", deploy.Output, StringComparison.Ordinal);
    }

    private string[] DeployArguments(string torrent, int seedPort) =>
        ["deploy", torrent, "--target", _dir.File("target.img"), "--peer", $"127.0.0.1:{seedPort}", "--listen", "127.0.0.1:0", "--stall-timeout", $"{StallSeconds}s"];

    /// <summary>Makes disk.img and its manifest, then overwrites 1 MiB of the image in place.</summary>
    private async Task<string> CreateChangedImageAsync()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        string torrent = _dir.File("disk.torrent");
        CliResult created = await CliRun.RunAsync("create", image, "-o", torrent, "--piece-size", "256KiB");
        Assert.True(created.ExitCode == 0, created.ToString());
        TorrentManifest manifest = TorrentManifest.Load(torrent);
        Assert.Equal(PieceLength, manifest.PieceLength);
        Assert.All(Enumerable.Range(40, 4), p => Assert.Equal(p, manifest.GetCanonicalPiece(p)));

        byte[] changed = new byte[ChangedLength];
        new Random(99).NextBytes(changed);
        await using (var stream = new FileStream(image, FileMode.Open, FileAccess.Write))
        {
            stream.Position = ChangedOffset;
            await stream.WriteAsync(changed, TestContext.Current.CancellationToken);
        }

        return torrent;
    }

    private static RunningProgram StartCli(params string[] arguments) =>
        new(ExternalProgram.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Cli.dll"), .. arguments]));
}
