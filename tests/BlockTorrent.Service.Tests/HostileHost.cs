using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>
/// A hostile host on the fleet's LAN, in its own network namespace: every socket it opens is created there. It keeps
/// every byte it receives, by kind, so a test can say how much of the image it got (bytes that are image content,
/// <see cref="ImageBytesReceived"/>) and how many bytes of the peer protocol any peer sent it.
/// </summary>
internal sealed class HostileHost(NetworkNamespace machine, IPAddress address)
{
    private readonly ConcurrentQueue<(string Kind, byte[] Data)> _received = new();

    public IPAddress Address { get; } = address;

    /// <summary>Gets how many bytes of the peer protocol peers sent over plain connections and inside TLS (0 when every peer refused).</summary>
    public long PeerProtocolBytes => _received.Where(r => r.Kind is "plain" or "tls").Sum(r => (long)r.Data.Length);

    /// <summary>Gets every byte received, of every kind (peer, TLS, tracker, HTTP), one array per read.</summary>
    public IEnumerable<byte[]> Everything => _received.Select(r => r.Data);

    /// <summary>Opens a TCP connection from the namespace.</summary>
    public async Task<Socket> ConnectAsync(IPEndPoint to, CancellationToken cancellationToken)
    {
        Socket socket = machine.Enter(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        try
        {
            await socket.ConnectAsync(to, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>An HTTP client whose connections start in the namespace and that accepts any server certificate (the attacker pins nothing).</summary>
    public HttpClient Http() => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var to = new IPEndPoint(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port);
            return new NetworkStream(await ConnectAsync(to, ct), ownsSocket: true);
        },
        SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    })
    { Timeout = TimeSpan.FromSeconds(20) };

    /// <summary>GETs a URL (any certificate); keeps the body; returns the status code, 0 when nothing answered.</summary>
    public async Task<int> GetAsync(string url, CancellationToken cancellationToken)
    {
        using HttpClient http = Http();
        try
        {
            using HttpResponseMessage response = await http.GetAsync(url, cancellationToken);
            Keep("http", await response.Content.ReadAsByteArrayAsync(cancellationToken));
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    /// <summary>POSTs JSON (any certificate); returns the status code, 0 when nothing answered.</summary>
    public Task<int> PostAsync(string url, string json, CancellationToken cancellationToken) =>
        PostAsync(url, new StringContent(json, Encoding.UTF8, "application/json"), null, cancellationToken);

    /// <summary>POSTs <paramref name="content"/> (any certificate), with a bearer <paramref name="token"/> when given; keeps the answer; returns the status code, 0 when nothing answered.</summary>
    public async Task<int> PostAsync(string url, HttpContent content, string? token, CancellationToken cancellationToken)
    {
        using HttpClient http = Http();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        try
        {
            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
            Keep("http", await response.Content.ReadAsByteArrayAsync(cancellationToken));
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Speaks the peer protocol in the clear to a TLS swarm's peer: handshake, HaveNone, an extended handshake, 1000
    /// bogus PEX addresses, and garbage blocks for piece 0, as fast as the peer takes them, until it closes.
    /// </summary>
    public async Task PlainPeerAsync(IPEndPoint peer, InfoHash infoHash, CancellationToken cancellationToken)
    {
        using Socket socket = await TryConnectAsync(peer, cancellationToken);
        if (!socket.Connected)
        {
            return;
        }

        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await SpeakAsync(stream, infoHash, "plain", cancellationToken);
    }

    /// <summary>
    /// Connects over TLS with the torrent's server name, trusting any server, presenting <paramref name="certificate"/>
    /// (none, or one of another authority), and speaks as <see cref="PlainPeerAsync"/> does if the handshake lets it.
    /// </summary>
    public async Task TlsPeerAsync(IPEndPoint peer, InfoHash infoHash, X509Certificate2? certificate, CancellationToken cancellationToken)
    {
        using Socket socket = await TryConnectAsync(peer, cancellationToken);
        if (!socket.Connected)
        {
            return;
        }

        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = Convert.ToHexStringLower(infoHash.Truncated20),
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
            ClientCertificates = certificate is null ? null : [certificate],
        };
        try
        {
            await tls.AuthenticateAsClientAsync(options, cancellationToken);
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            return;
        }

        await SpeakAsync(tls, infoHash, "tls", cancellationToken);
    }

    /// <summary>
    /// Holds <paramref name="count"/> idle TCP connections to <paramref name="peer"/>, opening a new one for each the
    /// peer closes, until cancelled.
    /// </summary>
    public async Task HoldIdleAsync(IPEndPoint peer, int count, CancellationToken cancellationToken)
    {
        await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                using Socket socket = await TryConnectAsync(peer, cancellationToken);
                if (!socket.Connected)
                {
                    await Task.Delay(100, CancellationToken.None);
                    continue;
                }

                await using var stream = new NetworkStream(socket, ownsSocket: false);
                await ReadAllAsync(stream, "plain", cancellationToken);
            }
        }));
    }

    /// <summary>
    /// Serves as a "seed" the targets may dial (it announced itself to the tracker): a TLS server with a certificate of
    /// another authority that asks for theirs, keeping whatever arrives, until cancelled.
    /// </summary>
    public async Task ServeAsFakeSeedAsync(TcpListener listener, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                Socket accepted = await listener.AcceptSocketAsync(cancellationToken);
                connections.Add(Task.Run(async () =>
                {
                    using (accepted)
                    {
                        await using var tls = new SslStream(new NetworkStream(accepted, ownsSocket: false));
                        try
                        {
                            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate, ClientCertificateRequired = true, RemoteCertificateValidationCallback = (_, _, _, _) => true }, cancellationToken);
                        }
                        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
                        {
                            return;
                        }

                        await ReadAllAsync(tls, "tls", cancellationToken);
                    }
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The attack is over.
        }

        await Task.WhenAll(connections);
    }

    /// <summary>Counts the bytes received that are image content: every run of 64 or more bytes of the image contains one of its 32-byte aligned windows.</summary>
    public long ImageBytesReceived(byte[] image)
    {
        const int Window = 32;
        var windows = new HashSet<string>(StringComparer.Ordinal);
        for (int offset = 0; offset + Window <= image.Length; offset += Window)
        {
            ReadOnlySpan<byte> window = image.AsSpan(offset, Window);
            if (window.ContainsAnyExcept((byte)0))
            {
                windows.Add(Convert.ToBase64String(window));
            }
        }

        long matched = 0;
        foreach (byte[] data in Everything)
        {
            for (int offset = 0; offset + Window <= data.Length; offset++)
            {
                if (windows.Contains(Convert.ToBase64String(data.AsSpan(offset, Window))))
                {
                    matched += Window;
                    offset += Window - 1;
                }
            }
        }

        return matched;
    }

    private async Task<Socket> TryConnectAsync(IPEndPoint peer, CancellationToken cancellationToken)
    {
        try
        {
            return await ConnectAsync(peer, cancellationToken);
        }
        catch (SocketException)
        {
            // Refused or reset: an unconnected socket says so.
            return machine.Enter(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        }
    }

    private async Task SpeakAsync(Stream stream, InfoHash infoHash, string kind, CancellationToken cancellationToken)
    {
        Task reading = ReadAllAsync(stream, kind, cancellationToken);
        try
        {
            await stream.WriteAsync(Handshake(infoHash), cancellationToken);
            await stream.WriteAsync(new byte[] { 0, 0, 0, 1, 0x0F }, cancellationToken);
            await stream.WriteAsync(Extended(0, "d1:md6:ut_pexi1eee"u8), cancellationToken);
            byte[] pex = new byte[6 * 1000];
            RandomNumberGenerator.Fill(pex);
            await stream.WriteAsync(Extended(1, [.. "d5:added6000:"u8, .. pex, .. "e"u8]), cancellationToken);
            byte[] block = new byte[4 + 1 + 8 + (16 << 10)];
            RandomNumberGenerator.Fill(block);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(block, block.Length - 4);
            block[4] = 7;
            block.AsSpan(5, 8).Clear();
            while (!cancellationToken.IsCancellationRequested && !reading.IsCompleted)
            {
                await stream.WriteAsync(new byte[] { 0, 0, 0, 1, 0x0F }, cancellationToken);
                await stream.WriteAsync(block, cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // Closed by the peer, or the attack is over.
        }

        await reading;
    }

    private async Task ReadAllAsync(Stream stream, string kind, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[64 << 10];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                Keep(kind, buffer.AsSpan(0, read).ToArray());
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or AuthenticationException)
        {
            // Reset by the peer, or the attack is over.
        }
    }

    private void Keep(string kind, byte[] data)
    {
        if (data.Length > 0)
        {
            _received.Enqueue((kind, data));
        }
    }

    /// <summary>Keeps bytes received by other means (a tracker's answer).</summary>
    public void KeepReceived(byte[] data) => Keep("http", data);

    private static byte[] Handshake(InfoHash infoHash)
    {
        byte[] handshake = new byte[68];
        handshake[0] = 19;
        "BitTorrent protocol"u8.CopyTo(handshake.AsSpan(1));
        handshake[25] = 0x10; // extension protocol (BEP 10)
        handshake[27] = 0x04; // fast extension (BEP 6)
        infoHash.Truncated20.CopyTo(handshake.AsSpan(28));
        "-XX0001-"u8.CopyTo(handshake.AsSpan(48));
        RandomNumberGenerator.Fill(handshake.AsSpan(56));
        return handshake;
    }

    private static byte[] Extended(byte id, ReadOnlySpan<byte> payload)
    {
        byte[] message = new byte[4 + 2 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(message, 2 + payload.Length);
        message[4] = 20;
        message[5] = id;
        payload.CopyTo(message.AsSpan(6));
        return message;
    }
}
