using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using BlockTorrent.Compression;
using BlockTorrent.Manifest;
using BlockTorrent.Service.Depot;
using BlockTorrent.Testing;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Tests;

/// <summary>A depot folder holding compressed images (<c>.img.zst</c>, <c>.img.gz</c>, seekable <c>.btz</c>) beside raw ones, and targets deploying them.</summary>
public sealed partial class CompressedImageServiceTests : IDisposable
{
    private const int PieceLength = 64 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ADepotServesAZstdStreamAndASeekableImageAndTargetServicesDeployEachBitExactToALoopDeviceThroughBoundedScratch()
    {
        LoopDevice.Require();
        TestImage image = TestImage.Realistic(TestImageShape.ZerosAndDuplicates, PieceLength, 128, seed: 19);
        byte[] raw = image.ToArray();
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(images, "disk.img.zst"), Compress(raw, zstd: true), TestContext.Current.CancellationToken);
        await WriteSeekableAsync(image, images, "disk.img.btz");
        long deviceLength = (raw.Length + (1 << 20) - 1) & ~((1L << 20) - 1);
        await using LoopDevice zstdDevice = await LoopDevice.CreateAsync(_dir, deviceLength, name: "zstd-loop.img");
        await using LoopDevice seekableDevice = await LoopDevice.CreateAsync(_dir, deviceLength, name: "btz-loop.img");
        const long scratch = 4 * PieceLength;

        await using ServiceProcess depot = ServiceProcess.Start([.. ServiceProcess.Loopback(_dir, "Depot"), $"--BlockTorrent:Depot:ImageFolder={images}", $"--BlockTorrent:Depot:PieceSize={PieceLength}", $"--BlockTorrent:StateDirectory={_dir.File("depot-state")}"]);
        await depot.WaitForOutputAsync("Depot: seeding disk.img.zst (", Bound);
        await depot.WaitForOutputAsync("Depot: seeding disk.img.btz (", Bound);
        await depot.WaitForOutputAsync("Depot: manifests at", Bound);
        string manifests = ManifestsUrl().Match(depot.Output).Groups[1].Value;
        Assert.True(manifests.Length > 0, depot.Output);

        string[] Target(string name, LoopDevice device, string state) =>
        [
            .. ServiceProcess.Loopback(_dir, "Target"),
            $"--BlockTorrent:Target:Image={manifests}/images/{name}.torrent",
            $"--BlockTorrent:Target:Device={device.Path}",
            $"--BlockTorrent:StateDirectory={_dir.File(state)}",
            "--BlockTorrent:Target:StopWhenDone=true",
            $"--BlockTorrent:Target:ScratchSize={scratch}",
            $"--BlockTorrent:Target:ScratchFolder={Directory.CreateDirectory(_dir.File(state + "-scratch")).FullName}",
        ];
        await using ServiceProcess zstdTarget = ServiceProcess.Start(Target("disk.img.zst", zstdDevice, "zstd-state"));
        await using ServiceProcess seekableTarget = ServiceProcess.Start(Target("disk.img.btz", seekableDevice, "btz-state"));

        Assert.True(await zstdTarget.WaitForExitAsync(Bound) == 0, zstdTarget.Output);
        Assert.True(await seekableTarget.WaitForExitAsync(Bound) == 0, seekableTarget.Output);
        AssertRawImage(raw, zstdDevice.ReadBackingFile());
        AssertRawImage(raw, seekableDevice.ReadBackingFile());
        Match decoded = ScratchPeak().Match(zstdTarget.Output);
        Assert.True(decoded.Success, zstdTarget.Output);
        long peak = long.Parse(decoded.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(peak is > 0 and <= scratch, $"scratch peak {peak} of {scratch}:\n{zstdTarget.Output}");
        Assert.Empty(Directory.GetFiles(_dir.File("zstd-state-scratch")));

        await depot.TerminateAsync();
        Assert.True(await depot.WaitForExitAsync(Bound) == 0, depot.Output);
    }

    [Theory]
    [InlineData("gz", StreamFormat.Gzip)]
    [InlineData("xz", StreamFormat.Xz)]
    public async Task ADepotMakesTheManifestOfAGzipOrXzStreamServesItsCompressedBytesAsAWebSeedAndTwoTargetsDeployItBitExact(string extension, StreamFormat format)
    {
        TestImage image = TestImage.Realistic(TestImageShape.ZeroRuns, PieceLength, 48, seed: 23);
        byte[] raw = image.ToArray();
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        string name = "disk.img." + extension;
        byte[] compressed = format == StreamFormat.Xz ? await CompressWithXzAsync(raw) : Compress(raw, zstd: false);
        await File.WriteAllBytesAsync(Path.Combine(images, name), compressed, TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:PieceSize"] = PieceLength.ToString(CultureInfo.InvariantCulture);

        // Opts out of TLS swarms: this test reads the stream's bytes from the web seed, which serves plain swarms only.
        settings["BlockTorrent:Depot:TlsSwarm"] = "false";
        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage(name, out var s) && s!.State == "seeding", Bound, $"the depot seeds {name}", TestContext.Current.CancellationToken);

        StreamImage? stream = StreamImage.FromManifest(TorrentManifest.Load(Path.Combine(images, name + ".torrent")));
        Assert.NotNull(stream);
        Assert.Equal(format, stream.Format);
        Assert.Equal(raw.Length, stream.RawLength);
        Assert.Equal(compressed.Length, stream.CompressedLength);

        // The web seed serves the torrent's file: the compressed bytes, by range.
        using (var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true }))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{depot.ManifestsUrl}/images/{name}");
            request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(PieceLength, (2 * PieceLength) - 1);
            using HttpResponseMessage response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(System.Net.HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal(compressed.AsSpan(PieceLength, PieceLength).ToArray(), await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        }

        // Two targets at once from the depot's default (super-)seed, each with three pieces of scratch.
        Dictionary<string, string?> targetSettings = new()
        {
            ["BlockTorrent:Target:Image"] = $"{depot.ManifestsUrl}/images/{name}.torrent",
            ["BlockTorrent:Target:ScratchSize"] = (3 * PieceLength).ToString(CultureInfo.InvariantCulture),
        };
        await using ServiceInstance first = await FleetServices.StartTargetAsync(_dir, depot, "target1.img", targetSettings);
        await using ServiceInstance second = await FleetServices.StartTargetAsync(_dir, depot, "target2.img", targetSettings);
        await first.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);
        await second.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);

        foreach ((ServiceInstance target, string device) in new[] { (first, "target1.img"), (second, "target2.img") })
        {
            Assert.Equal(0, target.Board.ExitCode);
            Assert.Equal(raw, await File.ReadAllBytesAsync(_dir.File(device), TestContext.Current.CancellationToken));
            JsonElement status = JsonDocument.Parse(target.Board.ToJson()).RootElement.GetProperty("target");
            Assert.Equal("complete", status.GetProperty("state").GetString());
        }
    }

    [Fact]
    public async Task ATargetWhoseScratchCannotHoldOnePieceOfTheStreamFailsNamingTheKeyBeforeItsDeviceIsOpened()
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(images, "disk.img.gz"), Compress(new TestImage { Length = 1 << 20, Seed = 29 }.ToArray(), zstd: false), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:PieceSize"] = PieceLength.ToString(CultureInfo.InvariantCulture);
        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img.gz", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img.gz", TestContext.Current.CancellationToken);

        await using ServiceInstance target = await FleetServices.StartTargetAsync(_dir, depot, "target.img", new()
        {
            ["BlockTorrent:Target:Image"] = $"{depot.ManifestsUrl}/images/disk.img.gz.torrent",
            ["BlockTorrent:Target:ScratchSize"] = (PieceLength / 2).ToString(CultureInfo.InvariantCulture),
        });
        await target.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal(1, target.Board.ExitCode);
        JsonElement status = JsonDocument.Parse(target.Board.ToJson()).RootElement.GetProperty("target");
        Assert.Equal("failed", status.GetProperty("state").GetString());
        Assert.Contains("BlockTorrent:Target:ScratchSize", status.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task ADepotGivenASeekableImageWithoutItsManifestDoesNotServeItAndSaysHowToMakeIt()
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await WriteSeekableAsync(new TestImage { Length = 1 << 20, Seed = 5 }, images, "disk.img.btz");
        File.Delete(Path.Combine(images, "disk.img.btz.torrent"));
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);

        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img.btz", out var s) && s!.State == "error", Bound, "the depot refuses disk.img.btz", TestContext.Current.CancellationToken);

        JsonElement served = JsonDocument.Parse(depot.Board.ToJson()).RootElement.GetProperty("images")[0];
        string error = served.GetProperty("error").GetString()!;
        Assert.Contains("create --compress zstd", error, StringComparison.Ordinal);
        Assert.Contains("disk.img.btz.torrent", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(images, "disk.img.btz.torrent")));
    }

    [Theory]
    [InlineData("*.img", "disk.img", true)]
    [InlineData("*.img", "disk.img.zst", true)]
    [InlineData("*.img", "disk.img.gz", true)]
    [InlineData("*.img", "disk.img.XZ", true)]
    [InlineData("*.img", "disk.img.btz", true)]
    [InlineData("*.img", "disk.zst", false)]
    [InlineData("*.img", "disk.img.bz2", false)]
    [InlineData("*.img", "notes.txt.gz", false)]
    [InlineData("*.raw", "disk.raw.zst", true)]
    public void AFileIsAnImageWhenItsNameOrItsNameWithoutACompressedExtensionMatchesThePattern(string pattern, string name, bool image) =>
        Assert.Equal(image, DepotService.MatchesImagePattern(pattern, name));

    [Theory]
    [InlineData("BlockTorrent:Target:ScratchSize", "0", "must be a positive number of bytes")]
    [InlineData("BlockTorrent:Target:ScratchSize", "-1", "must be a positive number of bytes")]
    [InlineData("BlockTorrent:Target:ScratchFolder", "/nowhere/blocktorrent-scratch", "does not exist")]
    public async Task AScratchSettingThatCannotWorkIsRefusedAtStartNamingTheKey(string key, string value, string why)
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = "magnet:?xt=urn:btih:" + new string('a', 40);
        settings["BlockTorrent:Target:Device"] = _dir.File("target.img");
        settings[key] = value;

        OptionsValidationException e = await Assert.ThrowsAsync<OptionsValidationException>(() => ServiceInstance.StartAsync(_dir.Path, settings));

        string failure = Assert.Single(e.Failures);
        Assert.StartsWith(key, failure, StringComparison.Ordinal);
        Assert.Contains(why, failure, StringComparison.Ordinal);
    }

    private static void AssertRawImage(byte[] raw, byte[] device)
    {
        Assert.True(device.AsSpan(0, raw.Length).SequenceEqual(raw), "the device does not hold the raw image");
        Assert.True(device.AsSpan(raw.Length).IndexOfAnyExcept((byte)0) < 0, "the device holds more than the raw image");
    }

    private static byte[] Compress(byte[] raw, bool zstd)
    {
        using var output = new MemoryStream();
        using (Stream encoder = zstd ? new ZstdSharp.CompressionStream(output, 3, leaveOpen: true) : new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            encoder.Write(raw);
        }

        return output.ToArray();
    }

    /// <summary>Compresses with the xz program, as xz images are made (no xz encoder in the libraries the project uses).</summary>
    private async Task<byte[]> CompressWithXzAsync(byte[] raw)
    {
        string xz = Requires.Program("xz", "xz-utils");
        string path = _dir.File("raw-for-xz.img");
        await File.WriteAllBytesAsync(path, raw, TestContext.Current.CancellationToken);
        (await ExternalProgram.RunAsync(xz, ["-1", "-T1", "--keep", path], TimeSpan.FromMinutes(2), cancellationToken: TestContext.Current.CancellationToken)).EnsureSuccess("xz");
        return await File.ReadAllBytesAsync(path + ".xz", TestContext.Current.CancellationToken);
    }

    /// <summary>Writes a seekable compressed image and its manifest into the folder, as <c>blocktorrent create --compress</c> does.</summary>
    private async Task WriteSeekableAsync(TestImage image, string folder, string name)
    {
        string rawPath = _dir.File(name + ".raw");
        await image.WriteFileAsync(rawPath, TestContext.Current.CancellationToken);
        var manifestOptions = new ManifestBuilderOptions { Name = name };
        TorrentManifest manifest = await CompressedImageBuilder.CreateAsync(rawPath, Path.Combine(folder, name), CompressedImageOptions.Default, manifestOptions, TestContext.Current.CancellationToken);
        await manifest.SaveAsync(Path.Combine(folder, name + ".torrent"), TestContext.Current.CancellationToken);
    }

    [GeneratedRegex(@"Depot: manifests at (https://[^ ]+)/images/NAME\.torrent")]
    private static partial Regex ManifestsUrl();

    [GeneratedRegex(@"scratch held at most (\d+) of its")]
    private static partial Regex ScratchPeak();
}
