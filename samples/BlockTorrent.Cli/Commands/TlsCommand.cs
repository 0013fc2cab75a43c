using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Cli.Parsing;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;

namespace BlockTorrent.Cli.Commands;

/// <summary>
/// <c>blocktorrent tls ca --out CA.pem</c> and <c>blocktorrent tls issue --ca CA.pem --out PEER.pem</c>: the
/// certificates of a TLS swarm (libtorrent's SSL torrents). <c>create --tls-ca CA.pem</c> puts the authority's
/// certificate in a manifest; <c>seed</c> and <c>deploy</c> present a peer certificate with <c>--tls-cert</c>/<c>--tls-key</c>.
/// Each private key is written beside its certificate as <c>NAME.key.pem</c>, readable by its owner only.
/// </summary>
internal static class TlsCommand
{
    public static Command Build(CliContext context)
    {
        var command = new Command("tls", "Make the certificates of a TLS swarm: an authority (create --tls-ca) and peer certificates (seed/deploy --tls-cert).")
        {
            BuildAuthority(context),
            BuildIssue(context),
        };
        return command;
    }

    /// <summary>Returns where the private key of a certificate file goes: <c>peer.pem</c> → <c>peer.key.pem</c>.</summary>
    public static string KeyPath(string certificatePath) => TrustFiles.KeyPath(certificatePath);

    private static Command BuildAuthority(CliContext context)
    {
        var output = new Option<string>("--out", "-o") { Description = "Where to write the authority's certificate; its private key goes beside it as NAME.key.pem.", HelpName = "CA.pem", Required = true };
        var name = new Option<string>("--name") { Description = "The authority's common name.", DefaultValueFactory = _ => "BlockTorrent swarm authority" };
        Option<TimeSpan?> validity = CliOptions.Duration("--valid-for", "How long the authority is valid. Default: 10y.");
        var force = new Option<bool>("--force") { Description = "Overwrite the files if they exist." };
        var command = new Command("ca", "Make a swarm authority: a certificate authority with an ECDSA P-256 key.") { output, name, validity, force };
        command.SetAction((parse, _) =>
        {
            string certificatePath = parse.GetRequiredValue(output);
            CheckFree(certificatePath, parse.GetValue(force));
            using X509Certificate2 authority = SwarmCertificates.CreateAuthority(parse.GetRequiredValue(name), parse.GetValue(validity) ?? TimeSpan.FromDays(3650));
            Write(authority, certificatePath);
            context.Console.Out.WriteLine($"authority:   {certificatePath} (put it in manifests: create --tls-ca {Path.GetFileName(certificatePath)})");
            context.Console.Out.WriteLine($"private key: {KeyPath(certificatePath)} (keep it secret: it admits peers to the swarm)");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command BuildIssue(CliContext context)
    {
        var ca = new Option<string>("--ca") { Description = "The authority's certificate; its key is read from NAME.key.pem beside it, or --ca-key.", HelpName = "CA.pem", Required = true };
        var caKey = new Option<string?>("--ca-key") { Description = "The authority's private key (default: beside --ca as NAME.key.pem).", HelpName = "CA.key.pem" };
        var output = new Option<string>("--out", "-o") { Description = "Where to write the peer certificate; its private key goes beside it as NAME.key.pem.", HelpName = "PEER.pem", Required = true };
        var name = new Option<string>("--name") { Description = "The torrent name the certificate admits its holder to, or * for every torrent of the authority.", DefaultValueFactory = _ => SwarmCertificates.AnyTorrent };
        Option<TimeSpan?> validity = CliOptions.Duration("--valid-for", "How long the certificate is valid (never past the authority). Default: 2y.");
        var force = new Option<bool>("--force") { Description = "Overwrite the files if they exist." };
        var command = new Command("issue", "Issue a peer certificate signed by a swarm authority, for seed/deploy --tls-cert.") { ca, caKey, output, name, validity, force };
        command.SetAction((parse, _) =>
        {
            string certificatePath = parse.GetRequiredValue(output);
            CheckFree(certificatePath, parse.GetValue(force));
            string caPath = parse.GetRequiredValue(ca);
            using X509Certificate2 authority = Inputs.LoadCertificate(caPath, parse.GetValue(caKey) ?? KeyPath(caPath), "--ca");
            using X509Certificate2 peer = SwarmCertificates.Issue(authority, parse.GetRequiredValue(name), parse.GetValue(validity) ?? TimeSpan.FromDays(730));
            Write(peer, certificatePath);
            context.Console.Out.WriteLine($"certificate: {certificatePath} (for {parse.GetRequiredValue(name)}, signed by '{authority.Subject}')");
            context.Console.Out.WriteLine($"private key: {KeyPath(certificatePath)} (seed/deploy --tls-cert {Path.GetFileName(certificatePath)})");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static void CheckFree(string certificatePath, bool force)
    {
        foreach (string path in new[] { certificatePath, KeyPath(certificatePath) })
        {
            if (File.Exists(path) && !force)
            {
                throw CommandException.Usage($"'{path}' already exists; use --force to overwrite it.");
            }
        }
    }

    private static void Write(X509Certificate2 certificate, string certificatePath)
    {
        using System.Security.Cryptography.ECDsa key = certificate.GetECDsaPrivateKey()!;
        KeygenCommand.WritePrivate(KeyPath(certificatePath), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
    }
}
