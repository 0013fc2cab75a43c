using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BlockTorrent.Samples;

/// <summary>
/// The PEM files both samples read for trust: a TLS swarm's certificates (an authority, a peer certificate with its
/// key beside it as <c>NAME.key.pem</c>) and a signing key's certificate chain. Errors are
/// <see cref="ArgumentException"/>s whose message names the file and what is wrong; each sample words them its own
/// way (the CLI's exit codes, the service's settings check). Compiled into both samples (samples/Shared).
/// </summary>
internal static class TrustFiles
{
    /// <summary>Returns where the private key of a certificate file lies by default: <c>peer.pem</c> → <c>peer.key.pem</c>.</summary>
    /// <param name="certificatePath">The certificate file.</param>
    /// <returns>The key file beside it.</returns>
    public static string KeyPath(string certificatePath)
    {
        string folder = Path.GetDirectoryName(certificatePath) ?? string.Empty;
        return Path.Combine(folder, Path.GetFileNameWithoutExtension(certificatePath) + ".key.pem");
    }

    /// <summary>Loads a certificate and its unencrypted private key from PEM files.</summary>
    /// <param name="certificatePath">The certificate.</param>
    /// <param name="keyPath">Its key; <see langword="null"/> for <see cref="KeyPath"/>.</param>
    /// <returns>The certificate with its key; the caller disposes of it.</returns>
    /// <exception cref="ArgumentException">A file is missing or unreadable, or they are not a certificate and its key.</exception>
    public static X509Certificate2 LoadCertificateWithKey(string certificatePath, string? keyPath)
    {
        keyPath ??= KeyPath(certificatePath);
        try
        {
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ArgumentException($"'{certificatePath}' and '{keyPath}' are not a PEM certificate and its unencrypted private key: {e.Message}", e);
        }
    }

    /// <summary>Loads the first certificate of a PEM file (an authority's; a key in the file is ignored).</summary>
    /// <param name="path">The PEM file.</param>
    /// <returns>The certificate; the caller disposes of it.</returns>
    /// <exception cref="ArgumentException">The file is missing, unreadable, or holds no certificate.</exception>
    public static X509Certificate2 LoadCertificate(string path)
    {
        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ArgumentException($"'{path}' holds no PEM certificate: {e.Message}", e);
        }
    }

    /// <summary>Loads a signing key's certificate chain: the key's own certificate first, then its intermediates.</summary>
    /// <param name="path">The PEM file of <c>CERTIFICATE</c> blocks.</param>
    /// <param name="key">The signing key, whose certificate must come first.</param>
    /// <param name="certificates">Receives the certificates; the caller disposes of them.</param>
    /// <exception cref="ArgumentException">The file is missing, holds no certificate, or its first is not the key's.</exception>
    public static void LoadSigningCertificates(string path, ECDsa key, IList<X509Certificate2> certificates)
    {
        var loaded = new X509Certificate2Collection();
        try
        {
            loaded.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ArgumentException($"'{path}' is not a PEM certificate chain: {e.Message}", e);
        }

        if (loaded.Count == 0 || !loaded[0].PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            string first = loaded.Count == 0 ? "holds no CERTIFICATE block" : $"starts with '{loaded[0].Subject}', whose key is not the signing key";
            foreach (X509Certificate2 certificate in loaded)
            {
                certificate.Dispose();
            }

            throw new ArgumentException($"'{path}' {first}: the signing key's own certificate comes first, then its intermediates.");
        }

        foreach (X509Certificate2 certificate in loaded)
        {
            certificates.Add(certificate);
        }
    }
}
