using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Service.Http;
using BlockTorrent.Service.Options;

namespace BlockTorrent.Service.Depot;

/// <summary>
/// The depot's part in TLS swarms: the authority its manifests name (<c>Depot:TlsSwarm</c> with
/// <c>Depot:SwarmAuthority</c>, or one it made and keeps in its state folder as <see cref="AuthorityFileName"/>), and
/// the peer certificate it presents (<c>Depot:TlsCertificate</c>, or one for every torrent issued from the authority
/// at each start).
/// </summary>
internal sealed class DepotSwarmTls : IDisposable
{
    /// <summary>The file, in the state folder, of the authority a depot made for itself (PEM; issue target certificates with it).</summary>
    public const string AuthorityFileName = "swarm-ca.pem";

    /// <summary>The file, in the state folder, of that authority's private key (PKCS#8 PEM, mode 0600).</summary>
    public const string AuthorityKeyFileName = "swarm-ca.key.pem";

    private DepotSwarmTls(X509Certificate2? authority, X509Certificate2? issuer, string? authorityPath, bool created, X509Certificate2? peerCertificate)
    {
        Authority = authority;
        Issuer = issuer;
        AuthorityPath = authorityPath;
        Created = created;
        PeerCertificate = peerCertificate;
    }

    /// <summary>Gets the authority the depot's own manifests name (without its key); <see langword="null"/> when they are plain swarms.</summary>
    public X509Certificate2? Authority { get; }

    /// <summary>Gets <see cref="Authority"/> with its private key, which enrolment issues targets' certificates with; <see langword="null"/> when the depot does not hold the key.</summary>
    public X509Certificate2? Issuer { get; }

    /// <summary>Gets the file of <see cref="Authority"/>.</summary>
    public string? AuthorityPath { get; }

    /// <summary>Gets a value indicating whether the depot made its authority in this run.</summary>
    public bool Created { get; }

    /// <summary>Gets the certificate the depot presents to its peers in TLS swarms; <see langword="null"/> for none.</summary>
    public X509Certificate2? PeerCertificate { get; }

    /// <summary>Loads (or makes) the depot's authority and peer certificate from its settings.</summary>
    /// <param name="depot">The depot's settings.</param>
    /// <param name="stateDirectory">Where a depot keeps the authority it made.</param>
    /// <returns>The depot's TLS certificates (none when neither TLS setting is given).</returns>
    /// <exception cref="ArgumentException">A file is missing, unreadable, or not what the setting needs.</exception>
    public static DepotSwarmTls Load(DepotOptions depot, string stateDirectory)
    {
        X509Certificate2? authority = null;
        X509Certificate2? issuer = null;
        X509Certificate2? peer = null;
        string? authorityPath = null;
        bool created = false;
        try
        {
            if (!string.IsNullOrWhiteSpace(depot.TlsCertificate))
            {
                peer = TrustFiles.LoadCertificateWithKey(depot.TlsCertificate, depot.TlsKey);
            }

            if (depot.TlsSwarm)
            {
                authorityPath = depot.SwarmAuthority;
                string? keyPath = depot.SwarmAuthorityKey;
                if (string.IsNullOrWhiteSpace(authorityPath))
                {
                    authorityPath = Path.Combine(stateDirectory, AuthorityFileName);
                    keyPath = Path.Combine(stateDirectory, AuthorityKeyFileName);
                    created = !File.Exists(authorityPath) && !File.Exists(keyPath);
                    if (created)
                    {
                        Create(authorityPath, keyPath);
                    }
                }

                authority = TrustFiles.LoadCertificate(authorityPath);

                // Without a configured peer certificate the key is needed; with one, a key that is there still issues enrolled targets' certificates.
                if (peer is null || File.Exists(keyPath ?? TrustFiles.KeyPath(authorityPath)))
                {
                    issuer = TrustFiles.LoadCertificateWithKey(authorityPath, keyPath);
                }

                if (peer is null)
                {
                    using X509Certificate2 issued = SwarmCertificates.Issue(issuer!, SwarmCertificates.AnyTorrent, TimeSpan.FromDays(365));

                    // A key made in memory cannot serve TLS on every platform; a PKCS#12 round trip gives one that can.
                    peer = X509CertificateLoader.LoadPkcs12(issued.Export(X509ContentType.Pkcs12), password: null);
                }
            }

            return new DepotSwarmTls(authority, issuer, authorityPath, created, peer);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            authority?.Dispose();
            issuer?.Dispose();
            peer?.Dispose();
            throw new ArgumentException(e.Message, e);
        }
        catch
        {
            authority?.Dispose();
            issuer?.Dispose();
            peer?.Dispose();
            throw;
        }
    }

    /// <summary>Whether a manifest names the depot's authority, or, when its swarms are plain, none.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns><see langword="true"/> when it is the kind of swarm the depot's settings make.</returns>
    public bool Matches(TorrentManifest manifest) =>
        (manifest.SwarmAuthority, Authority) switch
        {
            (null, null) => true,
            ({ } named, { } ours) => named.RawData.AsSpan().SequenceEqual(ours.RawData),
            _ => false,
        };

    /// <inheritdoc />
    public void Dispose()
    {
        Authority?.Dispose();
        Issuer?.Dispose();
        PeerCertificate?.Dispose();
    }

    private static void Create(string certificatePath, string keyPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(certificatePath)!);
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority($"BlockTorrent depot swarm authority ({System.Net.Dns.GetHostName()})", TimeSpan.FromDays(3650));
        using ECDsa key = authority.GetECDsaPrivateKey()!;

        // The key first, readable by the service alone, then the certificate: a certificate file always has its key.
        DepotCertificate.WriteNew(keyPath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        DepotCertificate.WriteNew(certificatePath, authority.ExportCertificatePem() + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }
}
