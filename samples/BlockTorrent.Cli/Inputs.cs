using BlockTorrent.Manifest;
using BlockTorrent.Samples;

namespace BlockTorrent.Cli;

/// <summary>Loads what the commands are given, turning every way it can be wrong into one clear message.</summary>
internal static class Inputs
{
    /// <summary>Loads and validates a .torrent file.</summary>
    /// <param name="path">The path given on the command line.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="CommandException">The file is missing, unreadable, or not a valid torrent (exit code 3).</exception>
    public static async Task<TorrentManifest> LoadTorrentAsync(string path, CancellationToken cancellationToken)
    {
        RequireFile(path, "torrent");
        try
        {
            return await TorrentManifest.LoadAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidTorrentException e)
        {
            throw CommandException.InvalidInput($"'{path}' is not a valid .torrent: {Uncapitalize(e.Message)}", e);
        }
        catch (IOException e)
        {
            throw CommandException.InvalidInput($"cannot read '{path}': {e.Message}", e);
        }
    }

    /// <summary>Loads the trusted keys of <c>--trust</c>.</summary>
    /// <param name="path">The PEM file of public keys or certificates.</param>
    /// <returns>The trust set.</returns>
    /// <exception cref="CommandException">The file is missing or holds no usable key (exit code 3).</exception>
    public static ManifestTrust LoadTrust(string path)
    {
        RequireFile(path, "trust file");
        try
        {
            return ManifestTrust.Load(path);
        }
        catch (ArgumentException e)
        {
            string reason = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal);
            throw CommandException.InvalidInput($"the trust file {reason}", e);
        }
    }

    /// <summary>Loads the ECDSA P-256 private key of <c>create --sign</c> from a PEM file.</summary>
    /// <param name="path">The PEM file (PKCS#8 <c>PRIVATE KEY</c> or SEC1 <c>EC PRIVATE KEY</c>, unencrypted).</param>
    /// <returns>The key; the caller disposes of it.</returns>
    /// <exception cref="CommandException">The file is missing or holds no usable private key (exit code 3).</exception>
    public static System.Security.Cryptography.ECDsa LoadSigningKey(string path)
    {
        RequireFile(path, "signing key");
        var key = System.Security.Cryptography.ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            return key.ExportParameters(includePrivateParameters: true).D is null
                ? throw new ArgumentException("it holds no private key")
                : key;
        }
        catch (Exception e) when (e is ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            key.Dispose();
            throw CommandException.InvalidInput($"'{path}' is not an unencrypted ECDSA P-256 private key in PEM (make one with 'blocktorrent keygen'): {e.Message}", e);
        }
    }

    /// <summary>Loads a certificate and its private key from PEM files (<c>tls issue --ca</c>, <c>--tls-cert</c>).</summary>
    /// <param name="certificatePath">The certificate.</param>
    /// <param name="keyPath">Its unencrypted private key.</param>
    /// <param name="option">The option that named them, for the message.</param>
    /// <returns>The certificate with its key; the caller disposes of it.</returns>
    /// <exception cref="CommandException">A file is missing, or they are not a certificate and its key (exit code 3).</exception>
    public static System.Security.Cryptography.X509Certificates.X509Certificate2 LoadCertificate(string certificatePath, string keyPath, string option)
    {
        RequireFile(certificatePath, option + " certificate");
        RequireFile(keyPath, option + " private key");
        try
        {
            return System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception e) when (e is ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            throw CommandException.InvalidInput($"{option}: '{certificatePath}' and '{keyPath}' are not a PEM certificate and its unencrypted private key (make them with 'blocktorrent tls'): {e.Message}", e);
        }
    }

    /// <summary>Loads the swarm authority's certificate of <c>create --tls-ca</c> (a key in the file is ignored).</summary>
    /// <param name="path">The PEM file.</param>
    /// <returns>The certificate; the caller disposes of it.</returns>
    /// <exception cref="CommandException">The file is missing or holds no certificate (exit code 3).</exception>
    public static System.Security.Cryptography.X509Certificates.X509Certificate2 LoadAuthority(string path)
    {
        RequireFile(path, "--tls-ca certificate");
        try
        {
            return System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(path));
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw CommandException.InvalidInput($"--tls-ca: '{path}' holds no PEM certificate (make one with 'blocktorrent tls ca'): {e.Message}", e);
        }
    }

    /// <summary>Loads the certificate chain of <c>create --sign-cert</c>: the signing key's certificate first.</summary>
    /// <param name="path">The PEM file of <c>CERTIFICATE</c> blocks.</param>
    /// <param name="key">The signing key, whose certificate must come first.</param>
    /// <param name="certificates">Receives the certificates; the caller disposes of them.</param>
    /// <exception cref="CommandException">The file is missing, holds no certificate, or its first is not the key's (exit code 3).</exception>
    public static void LoadSigningCertificates(string path, System.Security.Cryptography.ECDsa key, IList<System.Security.Cryptography.X509Certificates.X509Certificate2> certificates)
    {
        RequireFile(path, "signing certificate");
        try
        {
            TrustFiles.LoadSigningCertificates(path, key, certificates);
        }
        catch (ArgumentException e)
        {
            throw CommandException.InvalidInput(e.Message, e);
        }
    }

    /// <summary>Parses a magnet link given on the command line.</summary>
    /// <param name="text">The link.</param>
    /// <returns>The link.</returns>
    /// <exception cref="CommandException">It is not a valid magnet link (exit code 3).</exception>
    public static MagnetLink ParseMagnet(string text) =>
        MagnetLink.TryParse(text, out MagnetLink? link)
            ? link
            : throw CommandException.InvalidInput($"'{text}' is not a valid magnet link: it needs xt=urn:btih:… (v1) or xt=urn:btmh:… (v2).");

    /// <summary>Checks that a file (or device) given on the command line exists.</summary>
    /// <param name="path">The path.</param>
    /// <param name="what">What the file is, for the message (<c>torrent</c>, <c>source image</c>).</param>
    /// <exception cref="CommandException">It does not exist (exit code 3).</exception>
    public static void RequireFile(string path, string what)
    {
        if (Directory.Exists(path))
        {
            throw CommandException.InvalidInput($"the {what} '{path}' is a directory, not a file.");
        }

        if (!File.Exists(path))
        {
            throw CommandException.InvalidInput($"no such {what}: '{path}'.");
        }
    }

    private static string Uncapitalize(string message) =>
        message.StartsWith("Invalid torrent: ", StringComparison.Ordinal) ? message["Invalid torrent: ".Length..] : message;
}
