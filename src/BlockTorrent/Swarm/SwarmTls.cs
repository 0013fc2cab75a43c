using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Manifest;

namespace BlockTorrent.Swarm;

/// <summary>
/// The TLS transport of a swarm whose manifest names an authority (<c>ssl-cert</c>), as libtorrent's SSL torrents
/// speak it: TLS 1.2 or 1.3 over the TCP connection, the server name (SNI) the lowercase hex of the handshake's
/// 20-byte info-hash, each end presenting a certificate the authority signed and checking the other's with
/// <see cref="SwarmCertificates.Admits"/>. Inside TLS the peer protocol is unchanged, from the handshake on.
/// </summary>
internal sealed class SwarmTls
{
    /// <summary>The first byte of a TLS record carrying a handshake; a BitTorrent handshake starts with 19.</summary>
    public const byte HandshakeRecord = 0x16;

    private readonly X509Certificate2 _authority;
    private readonly string _torrentName;
    private readonly SslStreamCertificateContext _certificate;

    private SwarmTls(X509Certificate2 authority, string torrentName, ReadOnlySpan<byte> handshakeHash, SslStreamCertificateContext certificate)
    {
        _authority = authority;
        _torrentName = torrentName;
        _certificate = certificate;
        ServerName = Convert.ToHexStringLower(handshakeHash);
    }

    /// <summary>Gets the server name both ends use: the lowercase hex of the 20-byte handshake info-hash.</summary>
    public string ServerName { get; }

    /// <summary>
    /// Makes the transport of a swarm, or returns <see langword="null"/> when its manifest names no authority.
    /// </summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="certificate">Our certificate, with its private key.</param>
    /// <returns>The transport, or <see langword="null"/> for plain connections.</returns>
    /// <exception cref="InvalidOperationException">
    /// The manifest needs TLS and there is no certificate, it has no private key, or the swarm's authority does not
    /// admit it (no peer would accept it).
    /// </exception>
    public static SwarmTls? For(TorrentManifest manifest, X509Certificate2? certificate)
    {
        if (manifest.SwarmAuthority is not { } authority)
        {
            return null;
        }

        if (certificate is null)
        {
            throw new InvalidOperationException($"'{manifest.Name}' is a TLS torrent (its manifest names the swarm authority '{authority.Subject}'): give a peer certificate signed by it (BlockTorrentClientOptions.PeerCertificate; blocktorrent --tls-cert/--tls-key).");
        }

        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"The peer certificate '{certificate.Subject}' has no private key.");
        }

        if (!SwarmCertificates.Admits(authority, manifest.Name, certificate, null, out string? reason))
        {
            throw new InvalidOperationException($"'{manifest.Name}' is a TLS torrent whose peers would refuse ours: {reason}.");
        }

        byte[] handshakeHash = (manifest.InfoHashV1 ?? manifest.InfoHashV2)!.Value.Truncated20.ToArray();
        var context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        return new SwarmTls(authority, manifest.Name, handshakeHash, context);
    }

    /// <summary>Tells whether a connection starts with a TLS handshake record, without consuming it.</summary>
    /// <param name="socket">The accepted socket.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns><see langword="true"/> for TLS; <see langword="false"/> otherwise, or when the peer hung up.</returns>
    public static async ValueTask<bool> StartsWithTlsAsync(Socket socket, CancellationToken cancellationToken)
    {
        byte[] first = new byte[1];
        int n = await socket.ReceiveAsync(first, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
        return n == 1 && first[0] == HandshakeRecord;
    }

    /// <summary>
    /// Accepts TLS on a connection: its server name picks the swarm (through <paramref name="route"/>), whose
    /// certificate we present and whose authority must have signed the peer's.
    /// </summary>
    /// <param name="socket">The accepted socket; owned by the returned stream.</param>
    /// <param name="route">Finds a swarm by its 20-byte handshake info-hash.</param>
    /// <param name="cancellationToken">Ends the TLS handshake.</param>
    /// <returns>The authenticated stream and the swarm it is for.</returns>
    /// <exception cref="AuthenticationException">No TLS swarm has that server name, or the peer is not admitted.</exception>
    public static async Task<(SslStream Stream, TorrentSwarm Swarm)> AcceptAsync(Socket socket, Func<ReadOnlyMemory<byte>, TorrentSwarm?> route, CancellationToken cancellationToken)
    {
        var stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        TorrentSwarm? chosen = null;
        try
        {
            await stream.AuthenticateAsServerAsync(
                (_, hello, _, _) =>
                {
                    chosen = Choose(hello.ServerName, route);
                    return ValueTask.FromResult(chosen.Tls!.ServerOptions());
                },
                null,
                cancellationToken).ConfigureAwait(false);
            return (stream, chosen!);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts TLS on a connection we dialled.</summary>
    /// <param name="socket">The connected socket; owned by the returned stream.</param>
    /// <param name="cancellationToken">Ends the TLS handshake.</param>
    /// <returns>The authenticated stream.</returns>
    /// <exception cref="AuthenticationException">The peer is not admitted, or it refused us.</exception>
    public async Task<SslStream> ConnectAsync(Socket socket, CancellationToken cancellationToken)
    {
        var stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            string? refusal = null;
            var options = new SslClientAuthenticationOptions
            {
                TargetHost = ServerName,
                ClientCertificateContext = _certificate,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, chain, _) => Check(certificate, chain, out refusal),
            };
            try
            {
                await stream.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            }
            catch (AuthenticationException e) when (refusal is not null)
            {
                throw new AuthenticationException("TLS: the peer is not admitted: " + refusal, e);
            }

            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static TorrentSwarm Choose(string? serverName, Func<ReadOnlyMemory<byte>, TorrentSwarm?> route)
    {
        byte[] hash = new byte[20];
        if (serverName is not { Length: 40 } || Convert.FromHexString(serverName, hash, out _, out _) != System.Buffers.OperationStatus.Done)
        {
            throw new AuthenticationException($"TLS: the server name '{serverName}' is not a 40-digit hex info-hash");
        }

        TorrentSwarm? swarm = route(hash);
        if (swarm?.Tls is null)
        {
            throw new AuthenticationException($"TLS: no TLS torrent here has the info-hash {serverName}");
        }

        return swarm;
    }

    private SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificateContext = _certificate,
        ClientCertificateRequired = true,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, chain, _) => Check(certificate, chain, out _),
    };

    // The platform's verdict (sslPolicyErrors) is built against the system's roots and a host name; neither applies.
    // The swarm's own authority is the only root, and the certificate's names must name this torrent.
    private bool Check(X509Certificate? certificate, X509Chain? presented, out string? refusal)
    {
        if (certificate is null)
        {
            refusal = "it presented no certificate";
            return false;
        }

        var leaf = certificate as X509Certificate2;
        using X509Certificate2? copy = leaf is null ? new X509Certificate2(certificate) : null;
        var intermediates = new X509Certificate2Collection();
        if (presented is not null)
        {
            for (int i = 1; i < presented.ChainElements.Count; i++)
            {
                intermediates.Add(presented.ChainElements[i].Certificate);
            }
        }

        return SwarmCertificates.Admits(_authority, _torrentName, leaf ?? copy!, intermediates, out refusal);
    }
}
