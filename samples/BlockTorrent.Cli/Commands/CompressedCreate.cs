using System.Security.Cryptography;
using BlockTorrent.Cli.Parsing;
using BlockTorrent.Cli.Progress;
using BlockTorrent.Compression;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;

namespace BlockTorrent.Cli.Commands;

/// <summary>Where <c>create --compress</c> writes the compressed image, and how it compresses it.</summary>
/// <param name="Path">The compressed file, or <see langword="null"/> for IMAGE.btz beside the .torrent.</param>
/// <param name="Options">The compression options.</param>
internal sealed record CompressedTarget(string? Path, CompressedImageOptions Options);

/// <summary>
/// <c>blocktorrent create --compress zstd IMAGE -o FILE.torrent</c>: writes a seekable compressed image and the
/// manifest of that file (which records the raw length and the raw image's SHA-256).
/// </summary>
internal static class CompressedCreate
{
    /// <summary>The extension of a seekable compressed image: zstd frames, but zero runs left out, so not a plain .zst.</summary>
    public const string Extension = ".btz";

    public static async Task<int> RunAsync(CliContext context, string sourcePath, string outputPath, CompressedTarget target, ManifestBuilderOptions options, string? signingKey, bool force, bool json, CancellationToken cancellationToken)
    {
        try
        {
            target.Options.Validate();
        }
        catch (ArgumentException e)
        {
            throw CommandException.Usage(e.Message);
        }

        using ECDsa? key = CreateCommand.LoadKey(options, signingKey);
        CreateCommand.CheckOutput(outputPath, force);
        string compressedPath = target.Path ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outputPath)) ?? ".", Path.GetFileName(Path.TrimEndingDirectorySeparator(sourcePath)) + Extension);
        CreateCommand.CheckOutput(compressedPath, force);
        if (!File.Exists(sourcePath) && !DeviceOpener.IsDevicePath(sourcePath))
        {
            throw CommandException.InvalidInput($"'{sourcePath}' does not exist.");
        }

        options.Name ??= Path.GetFileName(compressedPath);
        long read = 0;
        long total = 0;
        target.Options.Progress = new SynchronousProgress<ManifestBuildProgress>(p =>
        {
            Interlocked.Exchange(ref read, p.BytesHashed);
            Interlocked.Exchange(ref total, p.TotalBytes);
        });
        var rate = new RateMeter();
        TransferSnapshot Sample()
        {
            long done = Interlocked.Read(ref read);
            return new TransferSnapshot { State = "compressing", TotalBytes = Math.Max(Interlocked.Read(ref total), done), CompletedBytes = done, TotalPieces = 0, DownloadRate = rate.Sample(done) };
        }

        IProgressView view = ProgressViews.Create(context.Console, "create", json);
        long started = TimeProvider.System.GetTimestamp();
        TorrentManifest manifest;
        await using (var pump = new ProgressPump(view, Sample))
        {
            try
            {
                manifest = await CompressedImageBuilder.CreateAsync(sourcePath, compressedPath, target.Options, options, cancellationToken).ConfigureAwait(false);
            }
            catch (ArgumentException e)
            {
                throw CommandException.InvalidInput($"'{sourcePath}': {e.Message}", e);
            }

            await manifest.SaveAsync(outputPath, cancellationToken).ConfigureAwait(false);
            CompressedImage layout = CompressedImage.FromManifest(manifest)!;
            TimeSpan elapsed = TimeProvider.System.GetElapsedTime(started);
            double bytesPerSecond = layout.RawLength / Math.Max(elapsed.TotalSeconds, 0.001);
            await pump.CompleteAsync($"wrote {compressedPath} ({ByteSize.Format(layout.CompressedLength)}, {layout.Ratio:F2}:1) and {outputPath}: {manifest.PieceCount} pieces in {Duration.Format(elapsed)} ({ByteSize.Format(bytesPerSecond)}/s of raw image)").ConfigureAwait(false);
        }

        ManifestSummary.Print(context.Console.Out, manifest, json);
        return ExitCodes.Success;
    }
}
