using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Samples;

namespace BlockTorrent.Service.Http;

/// <summary>
/// The certificate a depot serves its manifests with over HTTPS: the one <c>Depot:Certificate</c> names (PEM with its
/// key beside it or in <c>Depot:CertificateKey</c>, or PKCS#12 without a password), or else one the depot made for
/// itself and keeps in its state folder (<see cref="CertificateFileName"/>, its private key in
/// <see cref="KeyFileName"/>, readable by the service alone), so its fingerprint stays the same across restarts and
/// targets can pin it.
/// </summary>
internal sealed class DepotCertificate
{
    /// <summary>The file, in the state folder, of the certificate a depot made for itself (PEM; what targets pin).</summary>
    public const string CertificateFileName = "depot-https.crt";

    /// <summary>The file, in the state folder, of that certificate's private key (PKCS#8 PEM, mode 0600).</summary>
    public const string KeyFileName = "depot-https.key";

    private DepotCertificate(X509Certificate2 certificate, string path, bool created)
    {
        Certificate = certificate;
        Path = path;
        Created = created;
        Fingerprint = ServerTrust.FingerprintOf(certificate);
    }

    /// <summary>Gets the certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets the file the certificate was read from (the one targets are given to pin it).</summary>
    public string Path { get; }

    /// <summary>Gets a value indicating whether the depot made the certificate in this run.</summary>
    public bool Created { get; }

    /// <summary>Gets the certificate's fingerprint (<c>SHA256:HEX</c>), which targets may pin instead of the file.</summary>
    public string Fingerprint { get; }

    /// <summary>Loads the configured certificate, or the depot's own from <paramref name="stateDirectory"/>, making it the first time.</summary>
    /// <param name="certificateFile">The configured certificate file, or <see langword="null"/>.</param>
    /// <param name="keyFile">The configured key file for a PEM certificate whose key is elsewhere, or <see langword="null"/>.</param>
    /// <param name="stateDirectory">Where the depot keeps its own certificate.</param>
    /// <returns>The certificate.</returns>
    /// <exception cref="IOException">The certificate cannot be read or made; the message names the file and why.</exception>
    public static DepotCertificate LoadOrCreate(string? certificateFile, string? keyFile, string stateDirectory)
    {
        try
        {
            if (!string.IsNullOrWhiteSpace(certificateFile))
            {
                return new DepotCertificate(Load(certificateFile, keyFile), certificateFile, created: false);
            }

            string certificatePath = System.IO.Path.Combine(stateDirectory, CertificateFileName);
            string keyPath = System.IO.Path.Combine(stateDirectory, KeyFileName);
            if (File.Exists(certificatePath) || File.Exists(keyPath))
            {
                return new DepotCertificate(Load(certificatePath, keyPath), certificatePath, created: false);
            }

            Create(certificatePath, keyPath);
            return new DepotCertificate(Load(certificatePath, keyPath), certificatePath, created: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            string file = string.IsNullOrWhiteSpace(certificateFile) ? System.IO.Path.Combine(stateDirectory, CertificateFileName) : certificateFile;
            throw new IOException($"cannot use the HTTPS certificate {file}: {e.Message}", e);
        }
    }

    /// <summary>Reads a certificate with its private key: PKCS#12 (<c>.pfx</c>, <c>.p12</c>, no password) or PEM (key in <paramref name="keyFile"/> or the same file).</summary>
    internal static X509Certificate2 Load(string certificateFile, string? keyFile)
    {
        string extension = System.IO.Path.GetExtension(certificateFile);
        X509Certificate2 certificate = extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase)
            ? X509CertificateLoader.LoadPkcs12FromFile(certificateFile, password: null)
            : X509Certificate2.CreateFromPemFile(certificateFile, string.IsNullOrWhiteSpace(keyFile) ? null : keyFile);
        using (certificate)
        {
            if (!certificate.HasPrivateKey)
            {
                throw new CryptographicException("it holds no private key (give the key in the same file or in Depot:CertificateKey).");
            }

            // A key made in memory cannot serve TLS on every platform; a PKCS#12 round trip gives one that can.
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
        }
    }

    /// <summary>Makes a self-signed ECDSA P-256 server certificate for this machine's names, valid for ten years, and writes it and its key.</summary>
    private static void Create(string certificatePath, string keyPath)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(certificatePath)!);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string host = Dns.GetHostName();
        var request = new CertificateRequest(new X500DistinguishedName($"CN={host}, O=BlockTorrent depot"), key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(host);
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));

        // The key first, readable by the service alone, then the certificate: a certificate file always has its key.
        WriteNew(keyPath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        WriteNew(certificatePath, certificate.ExportCertificatePem() + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    /// <summary>Writes a new file with <paramref name="mode"/> (on Unix) through a temporary name, refusing to overwrite one.</summary>
    internal static void WriteNew(string path, string text, UnixFileMode mode) => Write(path, text, mode, overwrite: false);

    /// <summary>Writes a file with <paramref name="mode"/> (on Unix) through a temporary name, replacing one that is there in one step.</summary>
    internal static void WriteReplacing(string path, string text, UnixFileMode mode)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        Write(path, text, mode, overwrite: true);
    }

    private static void Write(string path, string text, UnixFileMode mode, bool overwrite)
    {
        // A name of its own, so two writers of the same file never write into one temporary file.
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
        }

        File.Move(temporary, path, overwrite);
    }
}
