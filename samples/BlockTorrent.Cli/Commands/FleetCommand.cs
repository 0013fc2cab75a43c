using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BlockTorrent.Samples;

namespace BlockTorrent.Cli.Commands;

/// <summary>
/// <c>blocktorrent fleet URL [--once] [--until-deployed] [--server-cert FILE | --server-fingerprint SHA256:HEX]</c>:
/// a depot's fleet view in the terminal, a row per target, redrawn as the depot's event stream
/// (<c>GET /fleet/events</c>) sends it, with the hook events (target done or failed, image deployed) below it. The
/// fleet view shares the depot's port 8580, which speaks HTTPS with the depot's own certificate: it is checked as
/// <c>deploy</c> checks the manifest's server.
/// </summary>
internal static class FleetCommand
{
    private const int EventsShown = 8;
    private static readonly string[] Columns = ["IMAGE", "TARGET", "STATE", "PERCENT", "DOWN/s", "UP/s", "ETA", "PEERS/LOCAL", "ERROR"];

    public static Command Build(CliContext context)
    {
        var url = new Argument<string>("URL") { Description = "The depot's fleet view: http://depot:8580 (its Depot:Fleet address) or http://depot:8580/fleet." };
        var once = new Option<bool>("--once") { Description = "Print the table once and exit." };
        var untilDeployed = new Option<bool>("--until-deployed") { Description = "Exit 0 once an image is fully deployed (every target done, none still underway)." };
        var serverCert = new Option<string?>("--server-cert") { Description = "For an https URL: accept only a server presenting a certificate in this PEM file (a depot's depot-https.crt), or one a CA in it issued for the URL's host name.", HelpName = "FILE" };
        var serverFingerprint = new Option<string?>("--server-fingerprint") { Description = "For an https URL: accept only a server whose certificate has this SHA-256 fingerprint (as a depot logs it).", HelpName = "SHA256:HEX" };
        var token = new Option<string?>("--token") { Description = "The depot's StatusToken, which a fleet view bound beyond loopback asks for (sent as Authorization: Bearer). Default: $BLOCKTORRENT_TOKEN.", HelpName = "TOKEN" };
        var command = new Command("fleet", "Watch a depot's fleet live: every target's state, progress, rates and ETA, and the swarm's total rate.") { url, once, untilDeployed, serverCert, serverFingerprint, token };
        command.SetAction(async (parse, cancellationToken) =>
        {
            Uri fleet = FleetUri(parse.GetRequiredValue(url));
            ServerTrust trust;
            try
            {
                trust = ServerTrust.Create(parse.GetValue(serverCert), parse.GetValue(serverFingerprint));
            }
            catch (ArgumentException e)
            {
                throw CommandException.InvalidInput(e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal), e);
            }

            using HttpClientHandler handler = trust.CreateHandler();
            using var http = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
            if ((parse.GetValue(token) ?? Environment.GetEnvironmentVariable("BLOCKTORRENT_TOKEN")) is { Length: > 0 } secret)
            {
                http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
            }
            try
            {
                if (parse.GetValue(once))
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, fleet);
                    request.Headers.Accept.ParseAdd("application/json");
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(30));
                    using HttpResponseMessage response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
                    response.EnsureSuccessStatusCode();
                    using JsonDocument view = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false));
                    context.Console.Out.Write(Render(view.RootElement, [], context.Console.Width));
                    return ExitCodes.Success;
                }

                return await WatchAsync(context, http, new Uri(fleet + "/events"), parse.GetValue(untilDeployed), cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new CommandException(ExitCodes.Failure, $"cannot read the fleet at {fleet}: {e.Message}", e);
            }
        });
        return command;
    }

    /// <summary>Formats the table (and the events, newest first) as the terminal shows it.</summary>
    internal static string Render(JsonElement view, IReadOnlyList<string> events, int width)
    {
        var text = new StringBuilder();
        double total = view.TryGetProperty("totalDownloadRate", out JsonElement t) ? t.GetDouble() : 0;
        text.Append(CultureInfo.InvariantCulture, $"fleet at {Text(view, "time")}: swarm {Bytes(total)}/s");
        foreach (JsonElement image in view.GetProperty("images").EnumerateArray())
        {
            text.Append(CultureInfo.InvariantCulture, $"; {Text(image, "name")} {image.GetProperty("done").GetInt32()}/{image.GetProperty("targets").GetInt32()} done");
            if (image.GetProperty("failed").GetInt32() is int failed and > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $", {failed} failed");
            }

            if (image.GetProperty("deployed").GetBoolean())
            {
                text.Append(" (deployed)");
            }
        }

        text.AppendLine();
        var rows = new List<string[]> { Columns };
        foreach (JsonElement row in view.GetProperty("targets").EnumerateArray())
        {
            string target = (Text(row, "host") is { Length: > 0 } host ? host + " " : string.Empty) + Text(row, "address") + (row.TryGetProperty("port", out JsonElement port) ? ":" + port.GetInt32().ToString(CultureInfo.InvariantCulture) : string.Empty);
            rows.Add(
            [
                Text(row, "image"),
                target,
                Text(row, "state"),
                row.GetProperty("percent").GetDouble().ToString("0.0", CultureInfo.InvariantCulture) + " %",
                Bytes(row.GetProperty("downloadRate").GetDouble()),
                Bytes(row.GetProperty("uploadRate").GetDouble()),
                row.GetProperty("etaSeconds") is { ValueKind: JsonValueKind.Number } eta ? Duration(eta.GetDouble()) : string.Empty,
                row.GetProperty("piecesFromPeers") is { ValueKind: JsonValueKind.Number } fromPeers ? $"{fromPeers.GetInt32()}/{row.GetProperty("piecesLocal").GetInt32()}" : string.Empty,
                Text(row, "error"),
            ]);
        }

        int[] widths = [.. Enumerable.Range(0, Columns.Length).Select(c => rows.Max(r => r[c].Length))];
        foreach (string[] row in rows)
        {
            string line = string.Join("  ", row.Select((cell, c) => c is 3 or 4 or 5 or 6 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd();
            text.AppendLine(line.Length > width ? line[..width] : line);
        }

        foreach (string line in events)
        {
            text.AppendLine(line);
        }

        return text.ToString();
    }

    /// <summary>The fleet view's URL: a depot's base address gets <c>/fleet</c>.</summary>
    private static Uri FleetUri(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CommandException(ExitCodes.InvalidInput, $"'{text}' is not an http(s) URL of a depot (http://depot:8580).");
        }

        string path = uri.AbsolutePath.TrimEnd('/');
        return new UriBuilder(uri) { Path = path.EndsWith("/fleet", StringComparison.Ordinal) ? path : path + "/fleet", Query = string.Empty }.Uri;
    }

    private static async Task<int> WatchAsync(CliContext context, HttpClient http, Uri events, bool untilDeployed, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, events);
        request.Headers.Accept.ParseAdd("text/event-stream");
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8);
        var recent = new List<string>();
        string kind = "message";
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                kind = line["event:".Length..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(line["data:".Length..].TrimStart());
            }
            else if (line.Length == 0 && data.Length > 0)
            {
                using JsonDocument message = JsonDocument.Parse(data.ToString());
                data.Clear();
                if (kind == "fleet")
                {
                    // A terminal gets the table redrawn in place with the latest events below it; a pipe or a file
                    // gets each table after the last, and each event once, as it comes.
                    context.Console.Out.Write(context.Console.IsTerminal
                        ? "\u001b[H\u001b[2J" + Render(message.RootElement, recent, context.Console.Width)
                        : Environment.NewLine + Render(message.RootElement, [], context.Console.Width));
                    context.Console.Out.Flush();
                }
                else
                {
                    string said = Describe(kind, message.RootElement);
                    if (context.Console.IsTerminal)
                    {
                        recent.Insert(0, said);
                        recent.RemoveRange(Math.Min(recent.Count, EventsShown), recent.Count - Math.Min(recent.Count, EventsShown));
                    }
                    else
                    {
                        context.Console.Out.WriteLine(said);
                        context.Console.Out.Flush();
                    }
                    if (untilDeployed && kind == "image-deployed")
                    {
                        return ExitCodes.Success;
                    }
                }

                kind = "message";
            }
        }

        throw new CommandException(ExitCodes.Failure, $"the depot closed the event stream {events}.");
    }

    private static string Describe(string kind, JsonElement message)
    {
        string when = Text(message, "time");
        if (message.TryGetProperty("target", out JsonElement target))
        {
            string who = Text(target, "host") is { Length: > 0 } host ? host : Text(target, "address");
            string error = Text(target, "error") is { Length: > 0 } e ? ": " + e : string.Empty;
            return $"{when} {kind} {who} {Text(target, "image")}{error}";
        }

        return $"{when} {kind} {Text(message, "image")}: {message.GetProperty("done").GetInt32()} of {message.GetProperty("targets").GetInt32()} targets done, {message.GetProperty("failed").GetInt32()} failed";
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : string.Empty;

    private static string Bytes(double bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        int unit = 0;
        while (bytes >= 1024 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }

        return bytes.ToString(unit == 0 ? "0" : "0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    private static string Duration(double seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Round(seconds));
        return span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m" : span.TotalMinutes >= 1 ? $"{span.Minutes}m{span.Seconds:00}s" : $"{span.Seconds}s";
    }
}
