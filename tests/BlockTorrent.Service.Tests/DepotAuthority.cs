using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Manifest;

namespace BlockTorrent.Service.Tests;

/// <summary>
/// Peer certificates issued from the swarm authority a depot made in its state folder, as an operator would with
/// <c>blocktorrent tls issue --ca swarm-ca.pem</c>: for clients that do not enrol (the CLI, a plain library client).
/// </summary>
internal static class DepotAuthority
{
    /// <summary>Issues a certificate for <paramref name="name"/> (every torrent by default), with its key, usable to serve TLS.</summary>
    public static X509Certificate2 Issue(string depotState, string name = SwarmCertificates.AnyTorrent)
    {
        using X509Certificate2 authority = X509Certificate2.CreateFromPemFile(Path.Combine(depotState, "swarm-ca.pem"), Path.Combine(depotState, "swarm-ca.key.pem"));
        using X509Certificate2 issued = SwarmCertificates.Issue(authority, name, TimeSpan.FromDays(1));
        return X509CertificateLoader.LoadPkcs12(issued.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>Issues a certificate and writes it as <c>NAME.pem</c> in <paramref name="folder"/>, its key beside it as <c>NAME.key.pem</c>; returns the certificate's file.</summary>
    public static string Write(string depotState, string folder, string fileName, string name = SwarmCertificates.AnyTorrent)
    {
        using X509Certificate2 peer = Issue(depotState, name);
        return Write(peer, folder, fileName);
    }

    /// <summary>Writes <paramref name="peer"/> as <c>NAME.pem</c> in <paramref name="folder"/>, its key beside it as <c>NAME.key.pem</c>; returns the certificate's file.</summary>
    public static string Write(X509Certificate2 peer, string folder, string fileName)
    {
        using ECDsa key = peer.GetECDsaPrivateKey()!;
        File.WriteAllText(Path.Combine(folder, fileName + ".key.pem"), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(folder, fileName + ".pem"), peer.ExportCertificatePem() + "\n");
        return Path.Combine(folder, fileName + ".pem");
    }
}
