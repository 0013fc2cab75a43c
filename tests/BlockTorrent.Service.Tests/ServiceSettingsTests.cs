using System.Text.Json;
using BlockTorrent.Testing;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Tests;

public sealed class ServiceSettingsTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ARoleThatIsNeitherDepotNorTargetIsRefusedAtStartNamingTheKey()
    {
        OptionsValidationException e = await RefusedAsync(ServiceInstance.Loopback("Depott"));

        string failure = Assert.Single(e.Failures);
        Assert.Contains("BlockTorrent:Role", failure, StringComparison.Ordinal);
        Assert.Contains("'Depott'", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADepotWhoseImageFolderDoesNotExistIsRefused()
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = _dir.File("nowhere");

        OptionsValidationException e = await RefusedAsync(settings);

        Assert.Contains(e.Failures, f => f.Contains("BlockTorrent:Depot:ImageFolder", StringComparison.Ordinal) && f.Contains("does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ANegativeRateCapIsRefusedNamingTheKey()
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = _dir.Path;
        settings["BlockTorrent:MaxUploadRate"] = "-1";
        settings["BlockTorrent:Depot:MaxUploadRatePerImage"] = "-5";

        OptionsValidationException e = await RefusedAsync(settings);

        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:MaxUploadRate", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Depot:MaxUploadRatePerImage", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATargetWithoutImageAndDeviceIsRefusedNamingBoth()
    {
        OptionsValidationException e = await RefusedAsync(ServiceInstance.Loopback("Target"));

        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Target:Image", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Target:Device", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATargetWithABadPeerTrackerAndMagnetGetsOneMessageForEach()
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = "magnet:?dn=nothing";
        settings["BlockTorrent:Target:Device"] = _dir.File("target.img");
        settings["BlockTorrent:Target:Peers:0"] = "10.0.0.1";
        settings["BlockTorrent:Target:Trackers:0"] = "ftp://tracker/announce";

        OptionsValidationException e = await RefusedAsync(settings);

        Assert.Equal(3, e.Failures.Count());
        Assert.Contains(e.Failures, f => f.Contains("not a valid magnet link", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("'10.0.0.1' is not ADDR:PORT", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("'ftp://tracker/announce'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AStatusAddressThatIsNotAnEndPointIsRefused()
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = _dir.Path;
        settings["BlockTorrent:Status"] = "localhost";

        OptionsValidationException e = await RefusedAsync(settings);

        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Status 'localhost' is not ADDR:PORT", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("-00:00:01", false, "Leave it out to seed until the service stops.")]
    [InlineData("60.00:00:00", false, "Leave it out to seed until the service stops.")]
    [InlineData("60.00:00:00", true, "To seed until the service is stopped, set StopWhenDone to false and leave SeedAfter out.")]
    public async Task ASeedAfterThatIsNegativeOrLongerThanTheServiceCanTimeIsRefusedSayingWhatToDoInstead(string seedAfter, bool stopWhenDone, string advice)
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567";
        settings["BlockTorrent:Target:Device"] = _dir.File("target.img");
        settings["BlockTorrent:Target:SeedAfter"] = seedAfter;
        settings["BlockTorrent:Target:StopWhenDone"] = stopWhenDone ? "true" : "false";

        OptionsValidationException e = await RefusedAsync(settings);

        string failure = Assert.Single(e.Failures);
        Assert.StartsWith("BlockTorrent:Target:SeedAfter must be between 0 and 49 days", failure, StringComparison.Ordinal);
        Assert.EndsWith(advice, failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATargetWhoseDeviceIsADirectoryFailsStopsAndSaysWhy()
    {
        string image = _dir.File("disk.img");
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(image, TestContext.Current.CancellationToken);
        var manifest = await BlockTorrent.Manifest.ManifestBuilder.CreateAsync(image, cancellationToken: TestContext.Current.CancellationToken);
        await manifest.SaveAsync(_dir.File("disk.torrent"), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = _dir.File("disk.torrent");
        settings["BlockTorrent:Target:Device"] = Directory.CreateDirectory(_dir.File("a-folder")).FullName;
        settings["BlockTorrent:StateDirectory"] = _dir.File("state");

        await using ServiceInstance target = await ServiceInstance.StartAsync(_dir.Path, settings);
        await target.Stopped;

        Assert.Equal(1, target.Board.ExitCode);
        JsonElement status = JsonDocument.Parse(target.Board.ToJson()).RootElement.GetProperty("target");
        Assert.Equal("failed", status.GetProperty("state").GetString());
        Assert.Contains("is a directory", status.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADepotDoesNotServeAnImageWhoseManifestIsInvalidAndSaysWhy()
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(Path.Combine(images, "bad.img"), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(images, "bad.img.torrent"), "d4:infoi3ee", TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;

        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("bad.img", out var s) && s!.State == "error", Bound, "the depot refuses bad.img", TestContext.Current.CancellationToken);

        JsonElement image = (await depot.GetStatusAsync()).GetProperty("images")[0];
        Assert.Equal("error", image.GetProperty("state").GetString());
        Assert.False(string.IsNullOrEmpty(image.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task TheServiceProgramExitsWithTwoAndListsEveryInvalidSetting()
    {
        string program = Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Service.dll");
        ProgramResult result = await ExternalProgram.RunAsync(
            "dotnet",
            [program, "--BlockTorrent:Role=Target", "--BlockTorrent:Status=127.0.0.1:0", "--BlockTorrent:Listen=127.0.0.1:0", "--contentRoot", _dir.Path],
            TimeSpan.FromSeconds(60),
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("invalid settings", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("BlockTorrent:Target:Image", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("BlockTorrent:Target:Device", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATargetGivenAPlainHttpUrlWithNothingElseCheckingTheManifestIsRefusedAtStart()
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = "http://depot:8580/images/disk.img.torrent";
        settings["BlockTorrent:Target:Device"] = _dir.File("target.img");

        OptionsValidationException e = await RefusedAsync(settings);

        string failure = Assert.Single(e.Failures);
        Assert.StartsWith("BlockTorrent:Target:Image 'http://depot:8580/images/disk.img.torrent' is a plain http URL", failure, StringComparison.Ordinal);
        Assert.Contains("AllowPlainHttp", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("BlockTorrent:Target:AllowPlainHttp", "true")]
    [InlineData("BlockTorrent:Target:InfoHash", "0123456789abcdef0123456789abcdef01234567")]
    public async Task ATargetGivenAPlainHttpUrlStartsWhenThePlainHttpIsAllowedOrTheImageIsPinned(string key, string value)
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = "http://127.0.0.1:9/images/disk.img.torrent";
        settings["BlockTorrent:Target:Device"] = _dir.File("target.img");
        settings["BlockTorrent:StateDirectory"] = _dir.File("state");
        settings["BlockTorrent:Target:RetryInterval"] = "00:00:00.200";
        settings[key] = value;

        await using ServiceInstance target = await ServiceInstance.StartAsync(_dir.Path, settings);

        await Eventually.TrueAsync(() => target.Board.Target?.State == "fetching-manifest", TimeSpan.FromSeconds(30), "the target asks the depot for the manifest", TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AMalformedServerFingerprintIsRefusedAtStartNamingTheKey()
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = "https://depot:8580/images/disk.img.torrent";
        settings["BlockTorrent:Target:Device"] = _dir.File("target.img");
        settings["BlockTorrent:Target:ServerFingerprint"] = "SHA256:12ab";

        OptionsValidationException e = await RefusedAsync(settings);

        string failure = Assert.Single(e.Failures);
        Assert.Contains("BlockTorrent:Target:ServerFingerprint", failure, StringComparison.Ordinal);
        Assert.Contains("'SHA256:12ab' is not a SHA-256 certificate fingerprint", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADepotWhoseCertificateHasNoPrivateKeyIsRefusedAtStart()
    {
        using var certificate = TestCertificates.SelfSigned("localhost");
        File.WriteAllText(_dir.File("public.crt"), certificate.ExportCertificatePem());
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = _dir.Path;
        settings["BlockTorrent:Depot:Certificate"] = _dir.File("public.crt");
        settings["BlockTorrent:Depot:CertificateKey"] = null;

        OptionsValidationException e = await RefusedAsync(settings);

        string failure = Assert.Single(e.Failures);
        Assert.StartsWith($"BlockTorrent:Depot:Certificate '{_dir.File("public.crt")}'", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FleetSettingsThatCannotWorkAreRefusedEachByItsKey()
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = _dir.Path;
        settings["BlockTorrent:Depot:Fleet"] = "everywhere";
        settings["BlockTorrent:Depot:Webhooks:0"] = "mailto:ops@example.org";
        settings["BlockTorrent:Depot:WebhookAttempts"] = "0";
        settings["BlockTorrent:Depot:WebhookRetryDelay"] = "00:00:00";
        settings["BlockTorrent:Depot:FleetSize"] = "-1";
        settings["BlockTorrent:Metrics"] = "9090";

        OptionsValidationException e = await RefusedAsync(settings);

        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Depot:Fleet 'everywhere' is not ADDR:PORT", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Depot:Webhooks:0 'mailto:ops@example.org' must be an http(s) URL", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Depot:WebhookAttempts must be at least 1", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Depot:WebhookRetryDelay must be positive", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Depot:FleetSize must be 0", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Metrics '9090' is not ADDR:PORT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATargetReportingToADepotThatIsNotAnHttpUrlIsRefused()
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = "http://depot:8580/images/disk.img.torrent";
        settings["BlockTorrent:Target:Device"] = _dir.File("target.img");
        settings["BlockTorrent:Target:ReportTo"] = "depot:8580";

        OptionsValidationException e = await RefusedAsync(settings);

        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Target:ReportTo 'depot:8580' must be the depot's http(s) URL", StringComparison.Ordinal));
    }

    private async Task<OptionsValidationException> RefusedAsync(IReadOnlyDictionary<string, string?> settings) =>
        await Assert.ThrowsAsync<OptionsValidationException>(() => ServiceInstance.StartAsync(_dir.Path, settings));
}
