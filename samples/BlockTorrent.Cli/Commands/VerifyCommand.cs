using System.CommandLine;
using System.Globalization;
using BlockTorrent.Cli.Parsing;
using BlockTorrent.Cli.Progress;
using BlockTorrent.Compression;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Writing;

namespace BlockTorrent.Cli.Commands;

/// <summary><c>blocktorrent verify FILE.torrent --target DEVICE_OR_FILE</c>: hashes the target against the manifest.</summary>
internal static class VerifyCommand
{
    public static Command Build(CliContext context)
    {
        var torrent = new Argument<string>("FILE.torrent") { Description = "The manifest to check against." };
        var target = new Option<string>("--target") { Description = "The device or image file to check.", HelpName = "DEVICE_OR_FILE", Required = true };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON events instead of text." };
        var command = new Command("verify", "Hash a target against a manifest and report the pieces that differ (exit code 5 when any does).") { torrent, target, json };
        command.SetAction((parse, cancellationToken) =>
            RunAsync(context, parse.GetRequiredValue(torrent), parse.GetRequiredValue(target), parse.GetValue(json), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string torrentPath, string targetPath, bool json, CancellationToken cancellationToken)
    {
        TorrentManifest manifest = await Inputs.LoadTorrentAsync(torrentPath, cancellationToken).ConfigureAwait(false);
        await using IBlockDevice device = await DeviceOpener.OpenReadOnlyAsync(targetPath, context.LoggerFactory.CreateLogger("BlockTorrent.Cli.Target"), cancellationToken).ConfigureAwait(false);
        CompressedImage? compressed = CompressedImage.FromManifest(manifest);
        StreamImage? stream = compressed is null ? StreamImage.FromManifest(manifest) : null;
        if (compressed is not null || stream is not null)
        {
            // A compressed image (seekable or a stream) is on the device raw: its one check is the raw image's SHA-256.
            long rawLength = compressed?.RawLength ?? stream!.RawLength;
            DeviceOpener.RequireLength(device, rawLength, "target");
            bool match = compressed is not null
                ? await compressed.MatchesRawAsync(device, cancellationToken).ConfigureAwait(false)
                : await stream!.MatchesRawAsync(device, cancellationToken).ConfigureAwait(false);
            context.Console.Out.WriteLine(match
                ? $"{targetPath}: the raw image matches {manifest.Name} (SHA-256 of {rawLength.ToString(CultureInfo.InvariantCulture)} bytes)."
                : $"{targetPath}: the raw image differs from {manifest.Name} (its SHA-256 is not the manifest's).");
            return match ? ExitCodes.Success : ExitCodes.VerifyFailed;
        }

        DeviceOpener.RequireLength(device, manifest.Length, "target");
        int checkedPieces = 0;
        var rate = new RateMeter();
        TransferSnapshot Sample()
        {
            int done = Volatile.Read(ref checkedPieces);
            long bytes = Math.Min(manifest.Length, (long)done * manifest.PieceLength);
            return new TransferSnapshot { State = "checking", TotalBytes = manifest.Length, CompletedBytes = bytes, TotalPieces = manifest.PieceCount, DownloadRate = rate.Sample(bytes) };
        }

        PieceCheckResult result;
        IProgressView view = ProgressViews.Create(context.Console, "verify", json);
        await using (var pump = new ProgressPump(view, Sample))
        {
            var options = new PieceCheckOptions { Progress = new SynchronousProgress<int>(n => InterlockedMax(ref checkedPieces, n)) };
            result = await PieceChecker.CheckAsync(manifest, device, options, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref checkedPieces, manifest.PieceCount);
            IReadOnlyList<int> bad = result.InvalidPieces;
            string summary = bad.Count == 0
                ? $"{targetPath}: all {manifest.PieceCount.ToString(CultureInfo.InvariantCulture)} pieces match {manifest.Name}."
                : $"{targetPath}: {bad.Count.ToString(CultureInfo.InvariantCulture)} of {manifest.PieceCount.ToString(CultureInfo.InvariantCulture)} pieces differ ({ByteSize.Format(DifferingBytes(manifest, bad))}): pieces {PieceRanges.Format(bad)}.";
            await pump.CompleteAsync(summary).ConfigureAwait(false);
        }

        if (json)
        {
            JsonProgressView.WriteLine(context.Console.Out, "verified", "verify", DateTimeOffset.UtcNow, w =>
            {
                w.WriteBoolean("match", result.InvalidPieces.Count == 0);
                w.WriteNumber("pieceCount", manifest.PieceCount);
                w.WriteNumber("differingPieceCount", result.InvalidPieces.Count);
                w.WriteStartArray("differingPieces");
                foreach ((int first, int last) in PieceRanges.Ranges(result.InvalidPieces))
                {
                    w.WriteStartArray();
                    w.WriteNumberValue(first);
                    w.WriteNumberValue(last);
                    w.WriteEndArray();
                }

                w.WriteEndArray();
            });
        }

        return result.InvalidPieces.Count == 0 ? ExitCodes.Success : ExitCodes.VerifyFailed;
    }

    private static long DifferingBytes(TorrentManifest manifest, IReadOnlyList<int> pieces)
    {
        long total = 0;
        foreach (int piece in pieces)
        {
            total += manifest.GetPieceSize(piece);
        }

        return total;
    }

    private static void InterlockedMax(ref int location, int value)
    {
        int current = Volatile.Read(ref location);
        while (value > current)
        {
            int seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
