using System.CommandLine;

namespace BlockTorrent.Cli.Commands;

/// <summary><c>blocktorrent info FILE.torrent [--json]</c>: what the manifest describes.</summary>
internal static class InfoCommand
{
    public static Command Build(CliContext context)
    {
        var torrent = new Argument<string>("FILE.torrent") { Description = "The manifest to describe." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var command = new Command("info", "Show a manifest: name, size, pieces, zero and duplicate pieces, info-hashes and magnet link.") { torrent, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var manifest = await Inputs.LoadTorrentAsync(parse.GetRequiredValue(torrent), cancellationToken).ConfigureAwait(false);
            ManifestSummary.Print(context.Console.Out, manifest, parse.GetValue(json));
            return ExitCodes.Success;
        });
        return command;
    }
}
