using System.Globalization;
using BlockTorrent.Cli.Parsing;
using BlockTorrent.Cli.Progress;
using BlockTorrent.Compression;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;

namespace BlockTorrent.Cli.Commands;

/// <summary>
/// <c>blocktorrent create IMAGE.img.zst</c> (or <c>.gz</c>, <c>.xz</c>): a compressed stream, recognised by its magic
/// number, is described as it is; it is decoded once so the manifest records the raw length and SHA-256, which a
/// target checks on the device before it reports success.
/// </summary>
internal static class StreamCreate
{
    /// <summary>Gets the stream format of a file the <c>create</c> command should describe as a stream, or <see langword="null"/>.</summary>
    public static StreamFormat? Detect(string sourcePath)
    {
        if (DeviceOpener.IsDevicePath(sourcePath) || !File.Exists(sourcePath))
        {
            return null;
        }

        StreamFormat? format = StreamImageBuilder.DetectFormat(sourcePath);
        if (format is not null && sourcePath.EndsWith(CompressedCreate.Extension, StringComparison.OrdinalIgnoreCase))
        {
            throw CommandException.InvalidInput($"'{sourcePath}' is a seekable compressed image: its manifest is the one 'create --compress' wrote beside it.");
        }

        return format;
    }

    public static async Task<int> RunAsync(CliContext context, string sourcePath, string outputPath, ManifestBuilderOptions options, string? signingKey, bool force, bool json, CancellationToken cancellationToken)
    {
        using var key = CreateCommand.LoadKey(options, signingKey);
        CreateCommand.CheckOutput(outputPath, force);
        options.Name ??= Path.GetFileName(sourcePath);
        long length = new FileInfo(sourcePath).Length;
        TransferSnapshot Sample() => new() { State = "decoding", TotalBytes = length, CompletedBytes = 0, TotalPieces = 0 };
        IProgressView view = ProgressViews.Create(context.Console, "create", json);
        long started = TimeProvider.System.GetTimestamp();
        TorrentManifest manifest;
        await using (var pump = new ProgressPump(view, Sample))
        {
            try
            {
                manifest = await StreamImageBuilder.CreateAsync(sourcePath, options, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                throw CommandException.InvalidInput($"'{sourcePath}': {e.Message}", e);
            }

            await manifest.SaveAsync(outputPath, cancellationToken).ConfigureAwait(false);
            StreamImage stream = StreamImage.FromManifest(manifest)!;
            TimeSpan elapsed = TimeProvider.System.GetElapsedTime(started);
            await pump.CompleteAsync($"wrote {outputPath}: {CompressedManifests.StreamName(stream.Format)} stream of {ByteSize.Format(stream.CompressedLength)} ({stream.Ratio.ToString("F2", CultureInfo.InvariantCulture)}:1 of a {ByteSize.Format(stream.RawLength)} image), {manifest.PieceCount} pieces, decoded and hashed in {Duration.Format(elapsed)}").ConfigureAwait(false);
        }

        ManifestSummary.Print(context.Console.Out, manifest, json);
        return ExitCodes.Success;
    }
}
