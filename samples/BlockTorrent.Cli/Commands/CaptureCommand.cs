using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using BlockTorrent.Devices;
using BlockTorrent.Devices.Linux;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Cli.Parsing;

namespace BlockTorrent.Cli.Commands;

/// <summary>
/// <c>blocktorrent capture --source DEVICE --depot URL [--name NAME]</c>: makes the golden image from a machine's
/// disk. The source is opened read-only and refused while it (or a partition of it) is mounted read-write; the
/// manifest is made while reading it (all-zero pieces are not hashed); the manifest is posted to the depot
/// (<c>POST /capture/NAME?port=PORT</c>, with the depot's status token), which joins this machine's swarm as a
/// downloader, writes the image into its folder and serves it once every piece is verified.
/// </summary>
internal static class CaptureCommand
{
    public static Command Build(CliContext context)
    {
        var source = new Option<string>("--source") { Description = "The disk to capture (/dev/sdX) or an image file; opened read-only.", Required = true, HelpName = "DEVICE" };
        var depot = new Option<string>("--depot") { Description = "The depot's manifests address, e.g. https://depot:8580.", Required = true, HelpName = "URL" };
        var name = new Option<string?>("--name") { Description = "The image's file name in the depot's folder (default: the source's name).", HelpName = "NAME" };
        var pieceLength = new Option<int>("--piece-length") { Description = "Piece length in bytes, a power of two (default: chosen from the size)." };
        Option<IPEndPoint?> listen = CliOptions.EndPoint("--listen", $"Where the depot connects to fetch the image (default: 0.0.0.0:{SwarmSupport.DefaultPort}).");
        var token = new Option<string?>("--token") { Description = "The depot's StatusToken (sent as Authorization: Bearer). Default: $BLOCKTORRENT_TOKEN.", HelpName = "TOKEN" };
        var serverCert = new Option<string?>("--server-cert") { Description = "For an https URL: accept only a server presenting a certificate in this PEM file, or one a CA in it issued.", HelpName = "FILE" };
        var serverFingerprint = new Option<string?>("--server-fingerprint") { Description = "For an https URL: accept only a server whose certificate has this SHA-256 fingerprint.", HelpName = "SHA256:HEX" };
        var command = new Command("capture", "Capture a machine's disk as a depot image: hash it read-only and let the depot fetch it over the swarm.") { source, depot, name, pieceLength, listen, token, serverCert, serverFingerprint };
        command.SetAction(async (parse, cancellationToken) =>
        {
            ServerTrust trust;
            try
            {
                trust = ServerTrust.Create(parse.GetValue(serverCert), parse.GetValue(serverFingerprint));
            }
            catch (ArgumentException e)
            {
                throw CommandException.InvalidInput(e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal), e);
            }

            string sourcePath = parse.GetRequiredValue(source);
            if (!Uri.TryCreate(parse.GetRequiredValue(depot).TrimEnd('/'), UriKind.Absolute, out Uri? depotUri) || depotUri.Scheme is not ("http" or "https"))
            {
                throw CommandException.InvalidInput($"'{parse.GetRequiredValue(depot)}' is not an http(s) URL of a depot.");
            }

            string imageName = parse.GetValue(name) ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(sourcePath));
            var builder = new ManifestBuilderOptions { Name = imageName, PieceLength = parse.GetValue(pieceLength) };
            string? secret = parse.GetValue(token) ?? Environment.GetEnvironmentVariable("BLOCKTORRENT_TOKEN");
            return await RunAsync(context, sourcePath, depotUri, imageName, builder, parse.GetValue(listen), secret, trust, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string sourcePath, Uri depot, string imageName, ManifestBuilderOptions builder, IPEndPoint? listen, string? secret, ServerTrust trust, CancellationToken cancellationToken)
    {
        if (DeviceOpener.IsDevicePath(sourcePath) && OperatingSystem.IsLinux())
        {
            // Its partitions and what is stacked on it (device-mapper, LVM, md) count: they write to it too.
            IReadOnlyList<string> mounts = LinuxBlockDevices.FindReadWriteMountPoints(sourcePath) ?? [];
            if (mounts.Count > 0)
            {
                throw CommandException.TargetRefused($"'{sourcePath}' is mounted read-write ({string.Join(", ", mounts)}): its bytes may change while they are read. Unmount it, or remount it read-only, then capture.");
            }
        }

        await using IBlockDevice device = await DeviceOpener.OpenReadOnlyAsync(sourcePath, context.LoggerFactory.CreateLogger("BlockTorrent.Cli.Source"), cancellationToken).ConfigureAwait(false);
        if (device.Length == 0)
        {
            throw CommandException.InvalidInput($"'{sourcePath}' is empty; there is nothing to capture.");
        }

        context.Console.Out.WriteLine($"capture: reading {sourcePath} ({ByteSize.Format(device.Length)}) read-only");
        TorrentManifest manifest = DeviceOpener.IsDevicePath(sourcePath)
            ? await ManifestBuilder.CreateAsync(device, builder, cancellationToken).ConfigureAwait(false)
            : await ManifestBuilder.CreateAsync(sourcePath, builder, cancellationToken).ConfigureAwait(false);
        context.Console.Out.WriteLine($"capture: {manifest.PieceCount} pieces hashed ({manifest.ZeroPieceCount} all zeros); offering them to {depot}");

        var options = new BlockTorrentClientOptions { ListenEndPoint = listen ?? new IPEndPoint(IPAddress.Any, SwarmSupport.DefaultPort), EnableLocalPeerDiscovery = false };
        await using var client = new BlockTorrentClient(options, context.LoggerFactory);
        using var seeding = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task seed = client.SeedAsync(manifest, device, new SeedOptions(), seeding.Token);
        using HttpClientHandler handler = trust.CreateHandler();
        using var http = new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(60) };
        if (secret is { Length: > 0 })
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }

        var status = new Uri($"{depot.AbsoluteUri.TrimEnd('/')}/capture/{Uri.EscapeDataString(imageName)}");
        try
        {
            using (var body = new ByteArrayContent(manifest.ToTorrentBytes()))
            {
                body.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
                using HttpResponseMessage posted = await http.PostAsync(new Uri($"{status}?port={client.LocalEndPoint.Port}"), body, cancellationToken).ConfigureAwait(false);
                if (!posted.IsSuccessStatusCode)
                {
                    string why = await posted.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    throw new CommandException(ExitCodes.Failure, $"the depot refused the capture ({(int)posted.StatusCode}): {why.Trim().Trim('"')}");
                }
            }

            // The depot fetches every piece from this machine; this command seeds until the depot has verified them all.
            while (true)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
                if (seed.IsCompleted)
                {
                    await seed.ConfigureAwait(false);
                }

                using JsonDocument state = JsonDocument.Parse(await http.GetByteArrayAsync(status, cancellationToken).ConfigureAwait(false));
                switch (state.RootElement.GetProperty("state").GetString())
                {
                    case "done":
                        context.Console.Out.WriteLine($"capture: the depot holds {imageName} ({manifest.InfoHashV1?.ToHex() ?? manifest.InfoHashV2?.ToHex()}) and serves it");
                        return ExitCodes.Success;
                    case "failed":
                        throw new CommandException(ExitCodes.Failure, $"the depot could not receive {imageName}: {state.RootElement.GetProperty("error").GetString()}");
                    default:
                        break;
                }
            }
        }
        catch (HttpRequestException e)
        {
            throw new CommandException(ExitCodes.Failure, $"cannot reach the depot at {depot}: {e.Message}", e);
        }
        finally
        {
            await seeding.CancelAsync().ConfigureAwait(false);
            try
            {
                await seed.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Seeding stops with the command.
            }
        }
    }
}
