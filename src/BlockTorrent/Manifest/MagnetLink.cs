using System.Globalization;
using System.Net;
using System.Text;

namespace BlockTorrent.Manifest;

/// <summary>
/// A BitTorrent magnet link (BEP 9, BEP 52): the info-hash(es) of a torrent plus hints for finding it — display
/// name, trackers, peer addresses and the exact length.
/// </summary>
/// <remarks>
/// Parsed: <c>xt=urn:btih:</c> (v1, 40 hexadecimal digits or 32 base32 characters), <c>xt=urn:btmh:1220…</c> (v2,
/// a SHA-256 multihash), <c>dn</c>, <c>tr</c> (any number), <c>x.pe</c> (<c>host:port</c>, any number) and
/// <c>xl</c>; numbered forms such as <c>xt.1</c> and <c>tr.2</c> are accepted, other parameters are ignored.
/// <see cref="ToString"/> writes the canonical form: hexadecimal hashes, percent-encoded values.
/// </remarks>
public sealed class MagnetLink
{
    private const string Scheme = "magnet:?";
    private const string BtihPrefix = "urn:btih:";
    private const string BtmhPrefix = "urn:btmh:";

    // Multihash header of a SHA2-256 digest: function code 0x12, digest length 0x20.
    private const string Sha256Multihash = "1220";

    /// <summary>Initializes a new instance.</summary>
    /// <param name="infoHashV1">The v1 info-hash, or <see langword="null"/>.</param>
    /// <param name="infoHashV2">The v2 info-hash, or <see langword="null"/>.</param>
    /// <param name="displayName">The display name, or <see langword="null"/>.</param>
    /// <param name="trackers">Tracker URLs, or <see langword="null"/> for none.</param>
    /// <param name="peers">Peer addresses, or <see langword="null"/> for none.</param>
    /// <param name="exactLength">The image length in bytes, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">Neither hash is given, or a hash is of the wrong version.</exception>
    public MagnetLink(InfoHash? infoHashV1, InfoHash? infoHashV2, string? displayName = null, IEnumerable<string>? trackers = null, IEnumerable<EndPoint>? peers = null, long? exactLength = null)
    {
        if (infoHashV1 is null && infoHashV2 is null)
        {
            throw new ArgumentException("A magnet link needs a v1 or a v2 info-hash.", nameof(infoHashV1));
        }

        if (infoHashV1 is { Version: not TorrentVersions.V1 })
        {
            throw new ArgumentException("The v1 info-hash must be 20 bytes.", nameof(infoHashV1));
        }

        if (infoHashV2 is { Version: not TorrentVersions.V2 })
        {
            throw new ArgumentException("The v2 info-hash must be 32 bytes.", nameof(infoHashV2));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(exactLength ?? 0, nameof(exactLength));
        InfoHashV1 = infoHashV1;
        InfoHashV2 = infoHashV2;
        DisplayName = displayName;
        Trackers = trackers is null ? [] : [.. trackers];
        Peers = peers is null ? [] : [.. peers];
        ExactLength = exactLength;
    }

    /// <summary>Gets the v1 (SHA-1) info-hash, if the link has one.</summary>
    public InfoHash? InfoHashV1 { get; }

    /// <summary>Gets the v2 (SHA-256) info-hash, if the link has one.</summary>
    public InfoHash? InfoHashV2 { get; }

    /// <summary>Gets the display name (<c>dn</c>), if any.</summary>
    public string? DisplayName { get; }

    /// <summary>Gets the tracker URLs (<c>tr</c>).</summary>
    public IReadOnlyList<string> Trackers { get; }

    /// <summary>
    /// Gets the peer addresses (<c>x.pe</c>): an <see cref="IPEndPoint"/> for an IP literal, a
    /// <see cref="DnsEndPoint"/> for a host name.
    /// </summary>
    public IReadOnlyList<EndPoint> Peers { get; }

    /// <summary>Gets the exact length in bytes (<c>xl</c>), if given.</summary>
    public long? ExactLength { get; }

    /// <summary>Makes the magnet link of a manifest: its info-hashes, name, trackers and length.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The magnet link.</returns>
    public static MagnetLink FromManifest(TorrentManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new MagnetLink(manifest.InfoHashV1, manifest.InfoHashV2, manifest.Name, manifest.Trackers, exactLength: manifest.Length);
    }

    /// <summary>
    /// Resolves the link's peer addresses (<c>x.pe</c>) to IP endpoints: IP literals as they are, host names through
    /// DNS (every address a name has; a name that does not resolve is left out, one peer fewer rather than a failure).
    /// </summary>
    /// <param name="cancellationToken">Stops the resolution.</param>
    /// <returns>The endpoints to dial, in the link's order.</returns>
    /// <remarks>
    /// A deployment from a manifest fetched earlier (<see cref="BlockTorrentClient.FetchManifestAsync"/>) knows only
    /// the peers its options name: pass these to it, or the peers the link names serve the metadata and nothing else.
    /// </remarks>
    public async Task<IReadOnlyList<IPEndPoint>> ResolvePeersAsync(CancellationToken cancellationToken = default)
    {
        var resolved = new List<IPEndPoint>();
        foreach (EndPoint peer in Peers)
        {
            if (peer is IPEndPoint ip)
            {
                resolved.Add(ip);
            }
            else if (peer is DnsEndPoint dns)
            {
                try
                {
                    IPAddress[] addresses = await Dns.GetHostAddressesAsync(dns.Host, cancellationToken).ConfigureAwait(false);
                    resolved.AddRange(addresses.Select(a => new IPEndPoint(a, dns.Port)));
                }
                catch (System.Net.Sockets.SocketException)
                {
                    // A name that does not resolve is one peer fewer, not a failure of the deployment.
                }
            }
        }

        return resolved;
    }

    /// <summary>Parses a magnet link.</summary>
    /// <param name="text">The link.</param>
    /// <returns>The parsed link.</returns>
    /// <exception cref="FormatException">The text is not a valid magnet link; the message says what is wrong.</exception>
    public static MagnetLink Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out MagnetLink? link, out string? error) ? link : throw new FormatException(error);
    }

    /// <summary>Tries to parse a magnet link.</summary>
    /// <param name="text">The link.</param>
    /// <param name="link">The parsed link, when the result is <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when the text is a valid magnet link.</returns>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MagnetLink? link)
        => TryParse(text, out link, out _);

    /// <summary>Returns the link in canonical form.</summary>
    /// <returns>A <c>magnet:?</c> URI.</returns>
    public override string ToString()
    {
        var builder = new StringBuilder(Scheme);
        string separator = string.Empty;
        void Add(string key, string value)
        {
            builder.Append(separator).Append(key).Append('=').Append(value);
            separator = "&";
        }

        if (InfoHashV1 is { } v1)
        {
            Add("xt", BtihPrefix + v1.ToHex());
        }

        if (InfoHashV2 is { } v2)
        {
            Add("xt", BtmhPrefix + Sha256Multihash + v2.ToHex());
        }

        if (DisplayName is not null)
        {
            Add("dn", Uri.EscapeDataString(DisplayName));
        }

        if (ExactLength is { } length)
        {
            Add("xl", length.ToString(CultureInfo.InvariantCulture));
        }

        foreach (string tracker in Trackers)
        {
            Add("tr", Uri.EscapeDataString(tracker));
        }

        foreach (EndPoint peer in Peers)
        {
            Add("x.pe", Uri.EscapeDataString(FormatPeer(peer)));
        }

        return builder.ToString();
    }

    private static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MagnetLink? link, out string? error)
    {
        link = null;
        if (text is null || !text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            error = "A magnet link starts with 'magnet:?'.";
            return false;
        }

        InfoHash? v1 = null, v2 = null;
        string? name = null;
        long? length = null;
        var trackers = new List<string>();
        var peers = new List<EndPoint>();
        foreach (string parameter in text[Scheme.Length..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = parameter.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                error = $"The magnet link parameter '{parameter}' has no value.";
                return false;
            }

            string key = parameter[..equals];
            string raw = parameter[(equals + 1)..];
            string value;
            try
            {
                value = Uri.UnescapeDataString(key == "dn" ? raw.Replace('+', ' ') : raw);
            }
            catch (UriFormatException)
            {
                error = $"The magnet link parameter '{key}' is not valid percent-encoding.";
                return false;
            }

            switch (BaseKey(key))
            {
                case "xt":
                    if (!TryParseTopic(value, ref v1, ref v2, out error))
                    {
                        return false;
                    }

                    break;
                case "dn":
                    name = value;
                    break;
                case "tr":
                    if (!Uri.TryCreate(value, UriKind.Absolute, out _))
                    {
                        error = $"The tracker '{value}' is not an absolute URL.";
                        return false;
                    }

                    trackers.Add(value);
                    break;
                case "x.pe":
                    if (!TryParsePeer(value, out EndPoint? peer))
                    {
                        error = $"The peer address '{value}' is not host:port.";
                        return false;
                    }

                    peers.Add(peer);
                    break;
                case "xl":
                    if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long xl))
                    {
                        error = $"The exact length '{value}' is not a non-negative integer.";
                        return false;
                    }

                    length = xl;
                    break;
            }
        }

        if (v1 is null && v2 is null)
        {
            error = "The magnet link has no 'xt=urn:btih:' (v1) or 'xt=urn:btmh:' (v2) info-hash.";
            return false;
        }

        link = new MagnetLink(v1, v2, name, trackers, peers, length);
        error = null;
        return true;
    }

    // "xt.1" → "xt"; "x.pe" stays.
    private static string BaseKey(string key)
    {
        int dot = key.LastIndexOf('.');
        return dot > 0 && key[(dot + 1)..].All(char.IsAsciiDigit) ? key[..dot] : key;
    }

    private static bool TryParseTopic(string value, ref InfoHash? v1, ref InfoHash? v2, out string? error)
    {
        error = null;
        if (value.StartsWith(BtihPrefix, StringComparison.OrdinalIgnoreCase))
        {
            string hash = value[BtihPrefix.Length..];
            byte[]? bytes = hash.Length switch
            {
                40 => FromHex(hash),
                32 => FromBase32(hash),
                _ => null,
            };
            if (bytes is null)
            {
                error = $"The v1 info-hash '{hash}' is not 40 hexadecimal digits or 32 base32 characters.";
                return false;
            }

            var parsed = new InfoHash(bytes);
            if (v1 is { } existing && existing != parsed)
            {
                error = "The magnet link has two different v1 info-hashes.";
                return false;
            }

            v1 = parsed;
        }
        else if (value.StartsWith(BtmhPrefix, StringComparison.OrdinalIgnoreCase))
        {
            string multihash = value[BtmhPrefix.Length..];
            if (!multihash.StartsWith(Sha256Multihash, StringComparison.Ordinal) || multihash.Length != 68 || FromHex(multihash[4..]) is not { } bytes)
            {
                error = $"The v2 info-hash '{multihash}' is not a SHA-256 multihash ('1220' and 64 hexadecimal digits).";
                return false;
            }

            var parsed = new InfoHash(bytes);
            if (v2 is { } existing && existing != parsed)
            {
                error = "The magnet link has two different v2 info-hashes.";
                return false;
            }

            v2 = parsed;
        }

        // Other topics (urn:sha1:, urn:ed2k:, …) do not identify a BitTorrent swarm; they are ignored.
        return true;
    }

    private static byte[]? FromHex(string hex)
    {
        foreach (char c in hex)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return null;
            }
        }

        return Convert.FromHexString(hex);
    }

    // RFC 4648 base32 without padding: 32 characters carry exactly 160 bits.
    private static byte[]? FromBase32(string text)
    {
        byte[] bytes = new byte[20];
        int buffer = 0, bits = 0, index = 0;
        foreach (char c in text)
        {
            int value = c switch
            {
                >= 'A' and <= 'Z' => c - 'A',
                >= 'a' and <= 'z' => c - 'a',
                >= '2' and <= '7' => c - '2' + 26,
                _ => -1,
            };
            if (value < 0)
            {
                return null;
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes[index++] = (byte)(buffer >> bits);
                buffer &= (1 << bits) - 1;
            }
        }

        return bytes;
    }

    private static bool TryParsePeer(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EndPoint? peer)
    {
        peer = null;
        if (IPEndPoint.TryParse(text, out IPEndPoint? ip))
        {
            // IPEndPoint.TryParse accepts a bare address (port 0); a peer needs its port.
            if (ip.Port == 0 || !(text.EndsWith(":" + ip.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)))
            {
                return false;
            }

            peer = ip;
            return true;
        }

        int colon = text.LastIndexOf(':');
        if (colon <= 0
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            || port is < 1 or > 65535
            || Uri.CheckHostName(text[..colon]) != UriHostNameType.Dns)
        {
            return false;
        }

        peer = new DnsEndPoint(text[..colon], port);
        return true;
    }

    private static string FormatPeer(EndPoint peer) => peer switch
    {
        IPEndPoint ip => ip.ToString(),
        DnsEndPoint dns => dns.Host + ":" + dns.Port.ToString(CultureInfo.InvariantCulture),
        _ => peer.ToString() ?? string.Empty,
    };
}
