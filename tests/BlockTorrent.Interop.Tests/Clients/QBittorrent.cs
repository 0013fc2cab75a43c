using System.Globalization;
using System.Net;
using System.Text.Json;
using BlockTorrent.Interop.Tests.Discovery;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Clients;

/// <summary>
/// A qbittorrent-nox driven through its Web API on loopback, with a temporary profile (no DHT, LSD, PeX or UPnP;
/// peers on the loopback interface only; Web UI without login from localhost). Killed by PID and its profile
/// deleted on dispose.
/// </summary>
internal sealed class QBittorrent : IAsyncDisposable
{
    private readonly RunningProgram _process;
    private readonly TempDirectory _profile;
    private readonly HttpClient _http;

    private QBittorrent(RunningProgram process, TempDirectory profile, int webPort, int peerPort)
    {
        PeerPort = peerPort;
        _process = process;
        _profile = profile;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{webPort}/api/v2/"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public string Output => _process.Output;

    /// <summary>Gets the port qBittorrent accepts peer connections on (on the loopback interface).</summary>
    public int PeerPort { get; }

    public static async Task<QBittorrent> StartAsync(string savePath, CancellationToken cancellationToken)
    {
        string program = Requires.Program("qbittorrent-nox", "qbittorrent-nox");
        var profile = new TempDirectory();
        int webPort = OpenTracker.FreePortForTcpAndUdp();
        int peerPort = OpenTracker.FreePortForTcpAndUdp();
        string config = Directory.CreateDirectory(Path.Combine(profile.Path, "qBittorrent", "config")).FullName;
        await File.WriteAllTextAsync(
            Path.Combine(config, "qBittorrent.conf"),
            string.Create(CultureInfo.InvariantCulture, $"""
                [LegalNotice]
                Accepted=true

                [BitTorrent]
                Session\DHTEnabled=false
                Session\LSDEnabled=false
                Session\PeXEnabled=false
                Session\Port={peerPort}
                Session\Interface=lo
                Session\InterfaceName=lo
                Session\DefaultSavePath={savePath}

                [Preferences]
                Connection\UPnP=false
                WebUI\Address=127.0.0.1
                WebUI\LocalHostAuth=false
                WebUI\Port={webPort}

                """),
            cancellationToken);
        var process = new RunningProgram(program, [$"--profile={profile.Path}", $"--webui-port={webPort}"], profile.Path);
        var client = new QBittorrent(process, profile, webPort, peerPort);
        try
        {
            await Eventually.TrueAsync(() => process.HasExited || client.Answers(), TimeSpan.FromSeconds(30), () => $"qBittorrent's Web API; it said:\n{process.Output}", cancellationToken);
            Assert.False(process.HasExited, $"qbittorrent-nox exited:\n{process.Output}");
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }

        return client;
    }

    /// <summary>Adds a .torrent (paused or not) through /api/v2/torrents/add.</summary>
    public async Task AddTorrentAsync(string torrentPath, string savePath, bool paused, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(await File.ReadAllBytesAsync(torrentPath, cancellationToken)), "torrents", Path.GetFileName(torrentPath) },
            { new StringContent(savePath), "savepath" },
            { new StringContent(paused ? "true" : "false"), "paused" },
        };
        using HttpResponseMessage response = await _http.PostAsync("torrents/add", form, cancellationToken);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode && body.Trim() == "Ok.", $"torrents/add answered {(int)response.StatusCode} '{body}'");
    }

    /// <summary>Gives qBittorrent a peer to connect to (/api/v2/torrents/addPeers).</summary>
    public async Task AddPeerAsync(string hash, IPEndPoint peer, CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["hashes"] = hash, ["peers"] = peer.ToString() });
        using HttpResponseMessage response = await _http.PostAsync("torrents/addPeers", form, cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"torrents/addPeers answered {(int)response.StatusCode}");
    }

    /// <summary>Reads /api/v2/torrents/info.</summary>
    public async Task<IReadOnlyList<TorrentInfo>> TorrentsAsync(CancellationToken cancellationToken)
    {
        string json = await _http.GetStringAsync("torrents/info", cancellationToken);
        using JsonDocument document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(t => new TorrentInfo(
            t.GetProperty("hash").GetString()!,
            t.GetProperty("infohash_v1").GetString()!,
            t.GetProperty("infohash_v2").GetString()!,
            t.GetProperty("name").GetString()!,
            t.GetProperty("progress").GetDouble(),
            t.GetProperty("state").GetString()!))];
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _process.DisposeAsync();
        _profile.Dispose();
    }

    private bool Answers()
    {
        try
        {
            return _http.GetStringAsync("app/version").GetAwaiter().GetResult().StartsWith('v');
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>One torrent as qBittorrent's Web API reports it.</summary>
    /// <param name="Hash">The id it uses (the truncated v2 hash when there is one, else the v1 hash).</param>
    /// <param name="InfoHashV1">The v1 info-hash in hex, or empty.</param>
    /// <param name="InfoHashV2">The v2 info-hash in hex, or empty.</param>
    /// <param name="Name">The torrent's name.</param>
    /// <param name="Progress">From 0 to 1.</param>
    /// <param name="State">Its state (pausedDL, downloading, uploading, stalledUP…).</param>
    internal sealed record TorrentInfo(string Hash, string InfoHashV1, string InfoHashV2, string Name, double Progress, string State);
}
