using System.CommandLine;
using System.Security.Cryptography;

namespace BlockTorrent.Cli.Commands;

/// <summary>
/// <c>blocktorrent keygen --out KEY.pem</c>: makes an ECDSA P-256 key pair for signing manifests: the private key
/// (PKCS#8 PEM, readable by its owner only) for <c>create --sign</c>, and its public key (<c>KEY.pub.pem</c>) for
/// <c>deploy --trust</c>.
/// </summary>
internal static class KeygenCommand
{
    public static Command Build(CliContext context)
    {
        var output = new Option<string>("--out", "-o") { Description = "Where to write the private key; the public key goes beside it as NAME.pub.pem.", HelpName = "KEY.pem", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite the key files if they exist." };
        var command = new Command("keygen", "Make an ECDSA P-256 key pair to sign manifests (create --sign) and to trust them (deploy --trust).") { output, force };
        command.SetAction((parse, cancellationToken) =>
        {
            string privatePath = parse.GetRequiredValue(output);
            string publicPath = PublicKeyPath(privatePath);
            foreach (string path in new[] { privatePath, publicPath })
            {
                if (File.Exists(path) && !parse.GetValue(force))
                {
                    throw CommandException.Usage($"'{path}' already exists; use --force to overwrite it.");
                }
            }

            using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            WritePrivate(privatePath, key.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(publicPath, key.ExportSubjectPublicKeyInfoPem() + "\n");
            string fingerprint = "SHA256:" + Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
            context.Console.Out.WriteLine($"private key: {privatePath} (keep it secret: it signs manifests)");
            context.Console.Out.WriteLine($"public key:  {publicPath} (give it to targets: deploy --trust {Path.GetFileName(publicPath)})");
            context.Console.Out.WriteLine($"fingerprint: {fingerprint}");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    /// <summary>Returns where the public key of a private key file goes: <c>key.pem</c> → <c>key.pub.pem</c>.</summary>
    private static string PublicKeyPath(string privatePath)
    {
        string folder = Path.GetDirectoryName(privatePath) ?? string.Empty;
        return Path.Combine(folder, Path.GetFileNameWithoutExtension(privatePath) + ".pub.pem");
    }

    /// <summary>Writes a private key file readable by its owner alone.</summary>
    internal static void WritePrivate(string path, string pem)
    {
        // Created readable by its owner alone, before any secret is in it (a file replaced by --force too).
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
        writer.Write(pem);
        writer.Write('\n');
    }
}
