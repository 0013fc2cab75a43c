using System.Text.Json;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class CreateInfoVerifyTests : IDisposable
{
    private const int ImageLength = 4 << 20;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task CreateWritesAHybridTorrentThatInfoDescribes()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        CliResult created = await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB", "--tracker", "http://127.0.0.1:6969/announce");
        Assert.True(created.ExitCode == 0, created.ToString());

        CliResult info = await CliRun.RunAsync("info", _dir.File("disk.torrent"), "--json");
        Assert.True(info.ExitCode == 0, info.ToString());
        JsonElement json = JsonDocument.Parse(info.Output).RootElement;
        Assert.Equal("disk.img", json.GetProperty("name").GetString());
        Assert.Equal(ImageLength, json.GetProperty("size").GetInt64());
        Assert.Equal(64 * 1024, json.GetProperty("pieceSize").GetInt32());
        Assert.Equal(64, json.GetProperty("pieceCount").GetInt32());
        Assert.Equal("hybrid", json.GetProperty("versions").GetString());
        Assert.Equal(40, json.GetProperty("infoHashV1").GetString()!.Length);
        Assert.Equal(64, json.GetProperty("infoHashV2").GetString()!.Length);
        Assert.StartsWith("magnet:?xt=urn:btih:", json.GetProperty("magnet").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InfoCountsZeroAndDuplicatePieces()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB");
        JsonElement json = JsonDocument.Parse((await CliRun.RunAsync("info", _dir.File("disk.torrent"), "--json")).Output).RootElement;

        // The sample image is half random, a quarter zeros and a quarter copied from the start.
        Assert.Equal(16, json.GetProperty("zeroPieces").GetInt32());
        Assert.Equal(16, json.GetProperty("duplicatePieces").GetInt32());
    }

    [Theory]
    [InlineData("--v1-only", "v1", true, false)]
    [InlineData("--v2-only", "v2", false, true)]
    public async Task CreateMakesSingleVersionTorrentsWhenAsked(string flag, string versions, bool hasV1, bool hasV2)
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        Assert.Equal(0, (await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), flag)).ExitCode);
        JsonElement json = JsonDocument.Parse((await CliRun.RunAsync("info", _dir.File("disk.torrent"), "--json")).Output).RootElement;
        Assert.Equal(versions, json.GetProperty("versions").GetString());
        Assert.Equal(hasV1, json.GetProperty("infoHashV1").ValueKind == JsonValueKind.String);
        Assert.Equal(hasV2, json.GetProperty("infoHashV2").ValueKind == JsonValueKind.String);
    }

    [Fact]
    public async Task VerifyPassesOnTheImageItself()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"));
        CliResult result = await CliRun.RunAsync("verify", _dir.File("disk.torrent"), "--target", image);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("match", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyReportsTheDifferingPiecesAndExitsWithFive()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB");
        string copy = _dir.File("copy.img");
        File.Copy(image, copy);
        using (var stream = File.OpenWrite(copy))
        {
            foreach (long offset in new long[] { (3 * 65536) + 10, (4 * 65536) + 10, (40 * 65536) + 10 })
            {
                stream.Position = offset;
                stream.WriteByte(0xAA);
                stream.WriteByte(0x55);
            }
        }

        CliResult result = await CliRun.RunAsync("verify", _dir.File("disk.torrent"), "--target", copy, "--json");
        Assert.Equal(5, result.ExitCode);
        JsonElement verified = JsonDocument.Parse(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.Equal(3, verified.GetProperty("differingPieceCount").GetInt32());
        Assert.Equal("[[3,4],[40,40]]", verified.GetProperty("differingPieces").GetRawText());
    }

    [Fact]
    public async Task VerifyRefusesATargetSmallerThanTheImage()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"));
        File.WriteAllBytes(_dir.File("small.img"), new byte[1000]);
        CliResult result = await CliRun.RunAsync("verify", _dir.File("disk.torrent"), "--target", _dir.File("small.img"));
        Assert.Equal(4, result.ExitCode);
        Assert.Contains("too small", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingTorrentIsOneLineAndExitCodeThree()
    {
        CliResult result = await CliRun.RunAsync("info", _dir.File("missing.torrent"));
        Assert.Equal(3, result.ExitCode);
        Assert.Equal($"blocktorrent: error: no such torrent: '{_dir.File("missing.torrent")}'.", result.Error.Trim());
    }

    [Fact]
    public async Task AFileThatIsNotATorrentIsOneLineAndExitCodeThree()
    {
        File.WriteAllText(_dir.File("notes.torrent"), "these are not bencoded");
        CliResult result = await CliRun.RunAsync("info", _dir.File("notes.torrent"));
        Assert.Equal(3, result.ExitCode);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("is not a valid .torrent", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerboseAddsTheStackTrace()
    {
        File.WriteAllText(_dir.File("notes.torrent"), "these are not bencoded");
        CliResult result = await CliRun.RunAsync("info", _dir.File("notes.torrent"), "--verbose");
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyWithAMissingTargetExitsWithThree()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"));
        CliResult result = await CliRun.RunAsync("verify", _dir.File("disk.torrent"), "--target", _dir.File("nothing.img"));
        Assert.Equal(3, result.ExitCode);
    }

    [Fact]
    public async Task CreateFromAMissingSourceExitsWithThree()
    {
        CliResult result = await CliRun.RunAsync("create", _dir.File("nothing.img"), "-o", _dir.File("x.torrent"));
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("nothing.img", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("3MiB")]
    [InlineData("8KiB")]
    [InlineData("1GiB")]
    public async Task CreateRejectsABadPieceSizeAsAUsageError(string size)
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        CliResult result = await CliRun.RunAsync("create", image, "-o", _dir.File("x.torrent"), "--piece-size", size);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--piece-size", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("x.torrent")));
    }

    [Fact]
    public async Task CreateRejectsV1OnlyWithV2Only()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        CliResult result = await CliRun.RunAsync("create", image, "-o", _dir.File("x.torrent"), "--v1-only", "--v2-only");
        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task CreateDoesNotOverwriteWithoutForce()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        File.WriteAllText(_dir.File("x.torrent"), "keep me");
        CliResult result = await CliRun.RunAsync("create", image, "-o", _dir.File("x.torrent"));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("keep me", File.ReadAllText(_dir.File("x.torrent")));
        Assert.Equal(0, (await CliRun.RunAsync("create", image, "-o", _dir.File("x.torrent"), "--force")).ExitCode);
    }

    [Fact]
    public async Task CreateRejectsATrackerThatIsNotAUrl()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        CliResult result = await CliRun.RunAsync("create", image, "-o", _dir.File("x.torrent"), "--tracker", "not a url");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--tracker", result.Error, StringComparison.Ordinal);
    }
}
