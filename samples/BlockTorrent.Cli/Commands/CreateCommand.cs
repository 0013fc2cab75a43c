using System.CommandLine;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Cli.Parsing;
using BlockTorrent.Cli.Progress;
using BlockTorrent.Compression;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;

namespace BlockTorrent.Cli.Commands;

/// <summary><c>blocktorrent create IMAGE_OR_DEVICE -o FILE.torrent</c>: makes the manifest (hybrid v1+v2 by default).</summary>
internal static class CreateCommand
{
    private const int MinPieceSize = 16 * 1024;
    private const int MaxPieceSize = 256 * 1024 * 1024;

    public static Command Build(CliContext context)
    {
        var source = new Argument<string>("IMAGE_OR_DEVICE") { Description = "The raw image file or block device to describe." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the .torrent.", HelpName = "FILE.torrent", Required = true };
        Option<long?> pieceSize = CliOptions.Size(
            "--piece-size",
            "The piece size: a power of two from 16KiB to 256MiB (default: chosen from the image size, 1MiB from 128MiB to 512GiB).",
            size => size is < MinPieceSize or > MaxPieceSize || !BitOperations.IsPow2(size)
                ? $"{ByteSize.Format(size)} ({size} bytes) is not a power of two from 16KiB to 256MiB; use for example 1MiB or 4MiB."
                : null);
        Option<string[]> trackers = CliOptions.Urls("--tracker", "A tracker announce URL; repeat for several.");
        Option<string[]> webSeeds = CliOptions.Urls("--web-seed", "A web seed (BEP 19 url-list): an http(s) server with the image's bytes, answering range requests; a URL ending in / is a folder holding the image under the torrent's name. Repeat for several.");
        var v1Only = new Option<bool>("--v1-only") { Description = "Make a BitTorrent v1 torrent only (for v1-only clients)." };
        var v2Only = new Option<bool>("--v2-only") { Description = "Make a BitTorrent v2 torrent only." };
        var name = new Option<string?>("--name") { Description = "The name in the torrent (default: the file name)." };
        var comment = new Option<string?>("--comment") { Description = "A comment stored in the torrent." };
        var isPrivate = new Option<bool>("--private") { Description = "Mark the torrent private (trackers only: no LSD or peer exchange)." };
        var sign = new Option<string?>("--sign") { Description = "Sign the manifest with this ECDSA P-256 private key (PEM; see 'keygen'); the signature sits outside the info dictionary, so every client still reads the .torrent.", HelpName = "KEY.pem" };
        var tlsCa = new Option<string?>("--tls-ca") { Description = "Make a TLS swarm (libtorrent's SSL torrents): put this authority's certificate (PEM; see 'tls ca') in the info dictionary as ssl-cert, so peers connect over TLS with certificates it signed.", HelpName = "CA.pem" };
        var signCert = new Option<string?>("--sign-cert") { Description = "With --sign: carry this PEM certificate chain in the signature (the key's certificate first, then intermediates), so targets trusting the CA that issued it accept the manifest.", HelpName = "CERT.pem" };
        Option<TimeSpan?> signExpires = CliOptions.Duration("--sign-expires", "With --sign: the signature expires after this long (30d, 12h); targets refuse it from then on, so an old manifest cannot be passed off as current.");
        var force = new Option<bool>("--force") { Description = "Overwrite the output file if it exists." };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON events instead of text." };
        var compress = new Option<string?>("--compress") { Description = "Compress the image into a seekable file and describe that: pieces travel compressed and targets decode each one onto the raw device.", HelpName = "zstd" };
        compress.AcceptOnlyFromAmong("zstd");
        var compressedFile = new Option<string?>("--compressed-file") { Description = "Where --compress writes the compressed image (default: IMAGE.btz beside the .torrent).", HelpName = "FILE" };
        var level = new Option<int?>("--level") { Description = "The zstd level for --compress, 1 to 22 (default: 3)." };
        var command = new Command("create", "Make the manifest (.torrent) of an image or device: hybrid v1+v2 by default.")
        {
            source, output, pieceSize, trackers, webSeeds, v1Only, v2Only, name, comment, isPrivate, sign, signCert, signExpires, tlsCa, force, json, compress, compressedFile, level,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(v1Only) && result.GetValue(v2Only))
            {
                result.AddError("--v1-only and --v2-only cannot be used together.");
            }

            if (result.GetValue(sign) is null && (result.GetValue(signCert) is not null || result.GetValue(signExpires) is not null))
            {
                result.AddError("--sign-cert and --sign-expires go with --sign KEY.pem.");
            }

            if (result.GetValue(compress) is not null && (result.GetValue(signCert) is not null || result.GetValue(signExpires) is not null))
            {
                result.AddError("--sign-cert and --sign-expires do not go with --compress yet; sign the compressed image's manifest with --sign alone.");
            }

            if (result.GetValue(signExpires) is TimeSpan expires && (expires <= TimeSpan.Zero || expires == Timeout.InfiniteTimeSpan))
            {
                result.AddError("--sign-expires must be a positive duration such as 30d.");
            }
        });
        command.SetAction((parse, cancellationToken) =>
        {
            var options = new ManifestBuilderOptions
            {
                PieceLength = (int)(parse.GetValue(pieceSize) ?? 0),
                Versions = parse.GetValue(v1Only) ? TorrentVersions.V1 : parse.GetValue(v2Only) ? TorrentVersions.V2 : TorrentVersions.Hybrid,
                Name = parse.GetValue(name),
                Comment = parse.GetValue(comment),
                IsPrivate = parse.GetValue(isPrivate),
                CreatedBy = "blocktorrent",
                SwarmAuthority = parse.GetValue(tlsCa) is { } caPath ? Inputs.LoadAuthority(caPath) : null,
            };
            foreach (string tracker in parse.GetValue(trackers) ?? [])
            {
                options.Trackers.Add(tracker);
            }

            foreach (string webSeed in parse.GetValue(webSeeds) ?? [])
            {
                options.WebSeeds.Add(webSeed);
            }

            if (parse.GetValue(compress) is not null)
            {
                var compression = new CompressedImageOptions { Level = parse.GetValue(level) ?? CompressedImageOptions.Default.Level };
                var target = new CompressedTarget(parse.GetValue(compressedFile), compression);
                return CompressedCreate.RunAsync(context, parse.GetRequiredValue(source), parse.GetRequiredValue(output), target, options, parse.GetValue(sign), parse.GetValue(force), parse.GetValue(json), cancellationToken);
            }

            if (StreamCreate.Detect(parse.GetRequiredValue(source)) is not null)
            {
                if (parse.GetValue(signCert) is not null || parse.GetValue(signExpires) is not null)
                {
                    throw CommandException.Usage("--sign-cert and --sign-expires do not go with a compressed stream yet; sign its manifest with --sign alone.");
                }

                return StreamCreate.RunAsync(context, parse.GetRequiredValue(source), parse.GetRequiredValue(output), options, parse.GetValue(sign), parse.GetValue(force), parse.GetValue(json), cancellationToken);
            }

            var signing = new Signing(parse.GetValue(sign), parse.GetValue(signCert), parse.GetValue(signExpires));
            return RunAsync(context, parse.GetRequiredValue(source), parse.GetRequiredValue(output), options, signing, parse.GetValue(force), parse.GetValue(json), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string sourcePath, string outputPath, ManifestBuilderOptions options, Signing signing, bool force, bool json, CancellationToken cancellationToken)
    {
        // The key and certificates are read first: a wrong file fails before minutes of hashing.
        using ECDsa? key = LoadKey(options, signing.KeyFile);
        var signingOptions = new ManifestSigningOptions();
        if (key is not null && signing.CertificateFile is { } certificates)
        {
            Inputs.LoadSigningCertificates(certificates, key, signingOptions.Certificates);
        }

        CheckOutput(outputPath, force);

        await using IBlockDevice device = await DeviceOpener.OpenReadOnlyAsync(sourcePath, context.LoggerFactory.CreateLogger("BlockTorrent.Cli.Source"), cancellationToken).ConfigureAwait(false);
        if (device.Length == 0)
        {
            throw CommandException.InvalidInput($"'{sourcePath}' is empty; there is nothing to describe.");
        }

        options.Name ??= Path.GetFileName(Path.TrimEndingDirectorySeparator(sourcePath));
        long hashed = 0;
        options.Progress = new SynchronousProgress<ManifestBuildProgress>(p => Interlocked.Exchange(ref hashed, p.BytesHashed));
        var rate = new RateMeter();
        int pieceLength = options.PieceLength != 0 ? options.PieceLength : ManifestBuilder.ChoosePieceLength(device.Length);
        int pieces = (int)((device.Length + pieceLength - 1) / pieceLength);
        TransferSnapshot Sample()
        {
            long done = Interlocked.Read(ref hashed);
            return new TransferSnapshot { State = "hashing", TotalBytes = device.Length, CompletedBytes = done, TotalPieces = pieces, DownloadRate = rate.Sample(done) };
        }

        IProgressView view = ProgressViews.Create(context.Console, "create", json);
        long started = TimeProvider.System.GetTimestamp();
        TorrentManifest manifest;
        await using (var pump = new ProgressPump(view, Sample))
        {
            // An image file is hashed by path: positional reads on every core, and the holes of a sparse file skipped.
            manifest = DeviceOpener.IsDevicePath(sourcePath)
                ? await ManifestBuilder.CreateAsync(device, options, cancellationToken).ConfigureAwait(false)
                : await ManifestBuilder.CreateAsync(sourcePath, options, cancellationToken).ConfigureAwait(false);
            if (key is not null && (signingOptions.Certificates.Count > 0 || signing.ExpiresAfter is not null))
            {
                // Signed again with the chain and the expiry; the signature replaces the builder's.
                DateTimeOffset now = TimeProvider.System.GetUtcNow();
                signingOptions.SignedAt = now;
                signingOptions.ExpiresAt = now + signing.ExpiresAfter;
                manifest = manifest.WithSignature(key, signingOptions);
            }

            Interlocked.Exchange(ref hashed, device.Length);
            await manifest.SaveAsync(outputPath, cancellationToken).ConfigureAwait(false);
            TimeSpan elapsed = TimeProvider.System.GetElapsedTime(started);
            double bytesPerSecond = device.Length / Math.Max(elapsed.TotalSeconds, 0.001);
            await pump.CompleteAsync($"wrote {outputPath}: {manifest.PieceCount} pieces hashed in {Duration.Format(elapsed)} ({ByteSize.Format(bytesPerSecond)}/s)").ConfigureAwait(false);
        }

        ManifestSummary.Print(context.Console.Out, manifest, json);
        foreach (X509Certificate2 certificate in signingOptions.Certificates)
        {
            certificate.Dispose();
        }

        return ExitCodes.Success;
    }

    /// <summary>Reads the signing key, if any, into the options and checks it.</summary>
    internal static ECDsa? LoadKey(ManifestBuilderOptions options, string? signingKey)
    {
        ECDsa? key = signingKey is null ? null : Inputs.LoadSigningKey(signingKey);
        options.SigningKey = key;
        if (key is not null)
        {
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                key.Dispose();
                throw CommandException.InvalidInput($"'{signingKey}': {e.Message}", e);
            }
        }

        return key;
    }

    /// <summary>Refuses an output file that exists (without --force) or whose folder does not.</summary>
    internal static void CheckOutput(string outputPath, bool force)
    {
        if (File.Exists(outputPath) && !force)
        {
            throw CommandException.Usage($"'{outputPath}' already exists; use --force to overwrite it.");
        }

        string? outputDirectory = Path.GetDirectoryName(Path.GetFullPath(outputPath));
        if (outputDirectory is not null && !Directory.Exists(outputDirectory))
        {
            throw CommandException.InvalidInput($"the output folder '{outputDirectory}' does not exist.");
        }
    }

    /// <summary>What <c>--sign</c>, <c>--sign-cert</c> and <c>--sign-expires</c> ask for.</summary>
    private sealed record Signing(string? KeyFile, string? CertificateFile, TimeSpan? ExpiresAfter);
}
