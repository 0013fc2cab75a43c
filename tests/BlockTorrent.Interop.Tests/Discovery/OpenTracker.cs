using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Discovery;

/// <summary>
/// A running opentracker on 127.0.0.1 (TCP and UDP on one free port), chrooted into a temp folder whose
/// whitelist holds the given info-hashes (Debian builds it with a whitelist). Killed by PID on dispose.
/// </summary>
internal sealed class OpenTracker : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private OpenTracker(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public Uri HttpAnnounceUri => new($"http://127.0.0.1:{Port}/announce");

    public Uri UdpAnnounceUri => new($"udp://127.0.0.1:{Port}/announce");

    public static async Task<OpenTracker> StartAsync(IEnumerable<InfoHash> whitelist, CancellationToken cancellationToken)
    {
        string program = Requires.Program("opentracker", "opentracker");
        var directory = new TempDirectory();
        // opentracker loads its whitelist in the background: a probe hash of its own tells when it has.
        InfoHash probe = DiscoveryTestData.RandomInfoHash();
        await File.WriteAllLinesAsync(directory.File("whitelist"), whitelist.Append(probe).Select(h => Convert.ToHexStringLower(h.Truncated20)), cancellationToken);
        int port = FreePortForTcpAndUdp();

        // After the chroot into -d, the whitelist path is relative to the new root.
        Process process = ExternalProgram.Start(program, ["-i", "127.0.0.1", "-p", port.ToString(), "-P", port.ToString(), "-d", directory.Path, "-w", "/whitelist"], directory.Path);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var tracker = new OpenTracker(process, directory, port);
        try
        {
            await Eventually.TrueAsync(() => !process.HasExited && AcceptsTcp(port), TimeSpan.FromSeconds(10), "opentracker to listen", cancellationToken);
            using var probing = new HttpTrackerClient(tracker.HttpAnnounceUri);
            await Eventually.TrueAsync(() => IsWhitelisted(probing, probe), TimeSpan.FromSeconds(10), "opentracker to load its whitelist", cancellationToken);
        }
        catch
        {
            await tracker.DisposeAsync();
            throw;
        }

        return tracker;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _directory.Dispose();
    }

    internal static int FreePortForTcpAndUdp()
    {
        for (int i = 0; ; i++)
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (i < 20)
            {
                // That port is taken for UDP: try another.
            }
        }
    }

    private static bool IsWhitelisted(HttpTrackerClient client, InfoHash probe)
    {
        try
        {
            // A plain announce: opentracker checks its whitelist when it adds a peer, not when one leaves ('stopped'
            // is answered at once for any hash), so only this tells that the list is loaded.
            client.AnnounceAsync(DiscoveryTestData.Announce(probe, 1, left: 0, AnnounceEvent.None)).GetAwaiter().GetResult();
            return true;
        }
        catch (TrackerException e) when (e.IsFailureReason)
        {
            return false;
        }
    }

    private static bool AcceptsTcp(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Connect(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
