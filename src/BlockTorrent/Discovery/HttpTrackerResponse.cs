using System.Net;
using System.Net.Sockets;
using System.Text;
using BlockTorrent.Bencode;
using BlockTorrent.Manifest;

namespace BlockTorrent.Discovery;

/// <summary>
/// Parses HTTP tracker responses (BEP 3 announce and BEP 48 scrape), strictly and within bounds: the body must be
/// one bencoded dictionary no larger than the caller's limit, and at most a given number of peers is taken.
/// </summary>
internal static class HttpTrackerResponse
{
    /// <summary>The interval assumed when a tracker names none.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(30);

    private const int MaxDepth = 8;

    /// <summary>Parses an announce response.</summary>
    /// <param name="body">The response body.</param>
    /// <param name="tracker">The tracker, for messages.</param>
    /// <param name="maxPeers">The most peers taken.</param>
    /// <returns>The response.</returns>
    /// <exception cref="TrackerException">The tracker refused (<see cref="TrackerException.IsFailureReason"/>), or the body is not a valid response.</exception>
    public static AnnounceResponse ParseAnnounce(ReadOnlySpan<byte> body, Uri tracker, int maxPeers)
    {
        SortedList<byte[], BencodeValue> root = ParseDictionary(body, tracker);
        ThrowOnFailure(root, tracker);
        var peers = new List<IPEndPoint>();
        var seen = new HashSet<IPEndPoint>();
        if (Find(root, "peers") is { } list)
        {
            ReadPeers(list, AddressFamily.InterNetwork, peers, seen, maxPeers, tracker);
        }

        if (Find(root, "peers6") is { } list6)
        {
            ReadPeers(list6, AddressFamily.InterNetworkV6, peers, seen, maxPeers, tracker);
        }

        long? interval = Integer(root, "interval", tracker);
        long? minInterval = Integer(root, "min interval", tracker);
        return new AnnounceResponse
        {
            Interval = interval is > 0 ? TimeSpan.FromSeconds(Math.Min(interval.Value, int.MaxValue)) : DefaultInterval,
            MinInterval = minInterval is >= 0 ? TimeSpan.FromSeconds(Math.Min(minInterval.Value, int.MaxValue)) : null,
            TrackerId = Text(root, "tracker id"),
            WarningMessage = Text(root, "warning message"),
            Seeders = Count(Integer(root, "complete", tracker)),
            Leechers = Count(Integer(root, "incomplete", tracker)),
            Peers = peers,
        };
    }

    /// <summary>Parses a scrape response.</summary>
    /// <param name="body">The response body.</param>
    /// <param name="tracker">The tracker, for messages.</param>
    /// <param name="requested">The torrents asked for; only these are returned.</param>
    /// <returns>The counters of the requested torrents the tracker knows.</returns>
    /// <exception cref="TrackerException">The tracker refused, or the body is not a valid response.</exception>
    public static Dictionary<InfoHash, ScrapeStats> ParseScrape(ReadOnlySpan<byte> body, Uri tracker, IReadOnlyList<InfoHash> requested)
    {
        SortedList<byte[], BencodeValue> root = ParseDictionary(body, tracker);
        ThrowOnFailure(root, tracker);
        var result = new Dictionary<InfoHash, ScrapeStats>();
        if (Find(root, "files") is not { } files)
        {
            return result;
        }

        if (files.Dictionary is null)
        {
            throw Invalid(tracker, "'files' is not a dictionary");
        }

        foreach (InfoHash hash in requested)
        {
            if (files.Dictionary.TryGetValue(hash.Truncated20.ToArray(), out BencodeValue? entry))
            {
                if (entry.Dictionary is null)
                {
                    throw Invalid(tracker, "a 'files' entry is not a dictionary");
                }

                result[hash] = new ScrapeStats(
                    Count(Integer(entry.Dictionary, "complete", tracker)) ?? 0,
                    Count(Integer(entry.Dictionary, "downloaded", tracker)) ?? 0,
                    Count(Integer(entry.Dictionary, "incomplete", tracker)) ?? 0);
            }
        }

        return result;
    }

    private static SortedList<byte[], BencodeValue> ParseDictionary(ReadOnlySpan<byte> body, Uri tracker)
    {
        // Some trackers end the body with a newline; nothing else may follow the value.
        body = body.TrimEnd("\r\n \t"u8);
        BencodeValue value;
        try
        {
            value = BencodeValue.Parse(body, new BencodeReaderOptions { MaxDepth = MaxDepth, MaxSize = body.Length, MaxStringLength = body.Length });
        }
        catch (BencodeException e)
        {
            throw new TrackerException($"The tracker {tracker} sent a response that is not valid bencode: {e.Message}", e);
        }

        return value.Dictionary ?? throw Invalid(tracker, "the response is not a dictionary");
    }

    private static void ThrowOnFailure(SortedList<byte[], BencodeValue> root, Uri tracker)
    {
        if (Find(root, "failure reason") is { } failure)
        {
            string reason = failure.Bytes is null ? "(not a string)" : TrackerText.Sanitize(failure.Bytes);
            throw new TrackerException($"The tracker {tracker} refused: {reason}") { IsFailureReason = true };
        }
    }

    private static void ReadPeers(BencodeValue value, AddressFamily family, List<IPEndPoint> peers, HashSet<IPEndPoint> seen, int maxPeers, Uri tracker)
    {
        if (value.Bytes is { } compact)
        {
            if (!CompactPeers.TryRead(compact, family, peers, seen, maxPeers))
            {
                throw Invalid(tracker, $"the compact peer list is {compact.Length} bytes, not a multiple of {CompactPeers.EntryLength(family)}");
            }

            return;
        }

        if (value.List is null)
        {
            throw Invalid(tracker, "'peers' is neither a string nor a list");
        }

        foreach (BencodeValue item in value.List)
        {
            if (peers.Count >= maxPeers)
            {
                return;
            }

            // Non-compact form: a dictionary with "ip" (text) and "port"; malformed entries are skipped, not fatal.
            if (item.Dictionary is null
                || Find(item.Dictionary, "ip")?.Bytes is not { } ip
                || Find(item.Dictionary, "port") is not { Kind: BencodeTokenType.Integer, Integer: > 0 and <= 65535 } port
                || !IPAddress.TryParse(Encoding.ASCII.GetString(ip), out IPAddress? address))
            {
                continue;
            }

            var endPoint = new IPEndPoint(CompactPeers.Normalize(address), (int)port.Integer);
            if (seen.Add(endPoint))
            {
                peers.Add(endPoint);
            }
        }
    }

    private static BencodeValue? Find(SortedList<byte[], BencodeValue> dictionary, string key) =>
        dictionary.TryGetValue(Encoding.ASCII.GetBytes(key), out BencodeValue? value) ? value : null;

    private static long? Integer(SortedList<byte[], BencodeValue> dictionary, string key, Uri tracker) => Find(dictionary, key) switch
    {
        null => null,
        { Kind: BencodeTokenType.Integer } value => value.Integer,
        _ => throw Invalid(tracker, $"'{key}' is not an integer"),
    };

    private static string? Text(SortedList<byte[], BencodeValue> dictionary, string key) =>
        Find(dictionary, key)?.Bytes is { } bytes ? TrackerText.Sanitize(bytes) : null;

    private static int? Count(long? value) => value is >= 0 ? (int)Math.Min(value.Value, int.MaxValue) : null;

    private static TrackerException Invalid(Uri tracker, string what) => new($"The tracker {tracker} sent an invalid response: {what}.");
}
