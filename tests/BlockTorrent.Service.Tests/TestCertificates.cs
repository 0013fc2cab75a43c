using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BlockTorrent.Service.Tests;

/// <summary>
/// Certificates for the tests' depots: a CA, and server certificates it issues or that sign themselves, each written
/// as PEM (certificate, and key beside it) into a folder of the test.
/// </summary>
internal static class TestCertificates
{
    /// <summary>Gets the depot certificate every test service on loopback shares (<see cref="ServiceInstance.Loopback"/>): self-signed for localhost, 127.0.0.1 and ::1, written once per test run and removed when it ends.</summary>
    public static (string Certificate, string Key) Shared => LazyShared.Value;

    private static readonly Lazy<(string, string)> LazyShared = new(() =>
    {
        string folder = Directory.CreateTempSubdirectory("blocktorrent-https-tests-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(folder, recursive: true);
        using X509Certificate2 certificate = SelfSigned("localhost");
        return Write(certificate, folder, "depot");
    });

    /// <summary>Makes a self-signed server certificate for <paramref name="host"/> (and the loopback addresses).</summary>
    public static X509Certificate2 SelfSigned(string host)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = ServerRequest(host, key);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>Makes a CA certificate that can issue server certificates.</summary>
    public static X509Certificate2 Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>Makes a server certificate for <paramref name="host"/> issued by <paramref name="authority"/>.</summary>
    public static X509Certificate2 IssuedBy(X509Certificate2 authority, string host)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = ServerRequest(host, key);
        using X509Certificate2 issued = request.Create(authority, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes a certificate as NAME.crt, and its key, when it has one, as NAME.key; returns both paths.</summary>
    public static (string Certificate, string Key) Write(X509Certificate2 certificate, string folder, string name)
    {
        string crt = Path.Combine(folder, name + ".crt");
        string key = Path.Combine(folder, name + ".key");
        File.WriteAllText(crt, certificate.ExportCertificatePem() + "\n");
        if (certificate.GetECDsaPrivateKey() is { } privateKey)
        {
            using (privateKey)
            {
                File.WriteAllText(key, privateKey.ExportPkcs8PrivateKeyPem());
            }
        }

        return (crt, key);
    }

    private static CertificateRequest ServerRequest(string host, ECDsa key)
    {
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(host);
        if (host == "localhost")
        {
            names.AddIpAddress(IPAddress.Loopback);
            names.AddIpAddress(IPAddress.IPv6Loopback);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request;
    }
}
