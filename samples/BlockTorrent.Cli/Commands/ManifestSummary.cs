using System.Globalization;
using System.Text.Json;
using BlockTorrent.Cli.Console;
using BlockTorrent.Cli.Parsing;
using BlockTorrent.Compression;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;

namespace BlockTorrent.Cli.Commands;

/// <summary>What <c>info</c> (and <c>create</c>) print about a manifest, as text or as one JSON object.</summary>
internal static class ManifestSummary
{
    public static void Print(TextWriter output, TorrentManifest manifest, bool json)
    {
        if (json)
        {
            PrintJson(output, manifest);
            return;
        }

        string Percent(int count) => manifest.PieceCount == 0 ? "0%" : ((double)count / manifest.PieceCount).ToString("0.0%", CultureInfo.InvariantCulture);
        output.WriteLine($"name:             {manifest.Name}");
        output.WriteLine($"size:             {ByteSize.Format(manifest.Length)} ({manifest.Length.ToString(CultureInfo.InvariantCulture)} bytes)");
        if (CompressedImage.FromManifest(manifest) is { } compressed)
        {
            output.WriteLine($"format:           {compressed.Format}, seekable (level {compressed.CompressionLevel.ToString(CultureInfo.InvariantCulture)}, a frame per piece, zero map of {ByteSize.Format(compressed.ChunkSize)} chunks); targets decode each piece onto the raw device");
            output.WriteLine($"raw size:         {ByteSize.Format(compressed.RawLength)} ({compressed.RawLength.ToString(CultureInfo.InvariantCulture)} bytes), ratio {compressed.Ratio.ToString("F2", CultureInfo.InvariantCulture)}:1");
            output.WriteLine($"zero chunks:      {compressed.ZeroChunkCount.ToString(CultureInfo.InvariantCulture)} of {compressed.ChunkCount.ToString(CultureInfo.InvariantCulture)} (never sent)");
            output.WriteLine($"raw sha256:       {Convert.ToHexStringLower(compressed.RawSha256)}");
        }
        else if (StreamImage.FromManifest(manifest) is { } stream)
        {
            output.WriteLine($"format:           {CompressedManifests.StreamName(stream.Format)}, one stream; targets decode it in order through bounded scratch (deploy --scratch-size)");
            output.WriteLine($"raw size:         {ByteSize.Format(stream.RawLength)} ({stream.RawLength.ToString(CultureInfo.InvariantCulture)} bytes), ratio {stream.Ratio.ToString("F2", CultureInfo.InvariantCulture)}:1");
            output.WriteLine($"raw sha256:       {Convert.ToHexStringLower(stream.RawSha256)}");
        }
        else
        {
            output.WriteLine("format:           raw");
        }

        output.WriteLine($"piece size:       {ByteSize.Format(manifest.PieceLength)}");
        output.WriteLine($"pieces:           {manifest.PieceCount.ToString(CultureInfo.InvariantCulture)}");
        output.WriteLine($"zero pieces:      {manifest.ZeroPieceCount.ToString(CultureInfo.InvariantCulture)} ({Percent(manifest.ZeroPieceCount)}, never sent)");
        output.WriteLine($"duplicate pieces: {manifest.DuplicatePieceCount.ToString(CultureInfo.InvariantCulture)} ({Percent(manifest.DuplicatePieceCount)}, fetched once)");
        output.WriteLine($"zero blocks:      {manifest.ZeroBlockCount.ToString(CultureInfo.InvariantCulture)} of 16 KiB inside pieces (never sent)");
        output.WriteLine($"repeated blocks:  {manifest.RepeatedBlockCount.ToString(CultureInfo.InvariantCulture)} of 16 KiB inside pieces (copied from a held piece, else fetched)");
        output.WriteLine($"versions:         {VersionText(manifest.Versions)}");
        output.WriteLine($"info-hash v1:     {manifest.InfoHashV1?.ToHex() ?? "(none)"}");
        output.WriteLine($"info-hash v2:     {manifest.InfoHashV2?.ToHex() ?? "(none)"}");
        output.WriteLine($"private:          {(manifest.IsPrivate ? "yes" : "no")}");
        output.WriteLine(manifest.SwarmAuthority is { } authority
            ? $"tls swarm:        peers need a certificate signed by '{authority.Subject}' (SHA256:{authority.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256).ToLowerInvariant()})"
            : "tls swarm:        no (plain peer connections)");
        if (manifest.Signatures.Count == 0)
        {
            output.WriteLine("signed by:        (unsigned)");
        }

        foreach (ManifestSignature signature in manifest.Signatures)
        {
            output.WriteLine($"signed by:        {signature.Fingerprint} ({(signature.IsValid ? "valid signature" : "INVALID: the manifest or signature was altered")})");
            if (SignerCertificate(signature) is { } certificate)
            {
                output.WriteLine($"  certificate:    {certificate}");
            }

            if (signature.SignedAt is { } signedAt)
            {
                output.WriteLine($"  signed at:      {signedAt.ToString("u", CultureInfo.InvariantCulture)}{(signature.ExpiresAt is { } expires ? $", expires {expires.ToString("u", CultureInfo.InvariantCulture)}" : ", does not expire")}");
            }
        }

        foreach (string tracker in manifest.Trackers)
        {
            output.WriteLine($"tracker:          {tracker}");
        }

        if (!string.IsNullOrEmpty(manifest.Comment))
        {
            output.WriteLine($"comment:          {manifest.Comment}");
        }

        output.WriteLine($"magnet:           {Magnet(manifest)}");
    }

    /// <summary>Builds the magnet link of a manifest: both info-hashes of a hybrid, the name and the trackers.</summary>
    public static string Magnet(TorrentManifest manifest) => MagnetLink.FromManifest(manifest).ToString();

    private static void PrintJson(TextWriter output, TorrentManifest manifest)
    {
        JsonText.WriteLine(output, w =>
        {
            w.WriteStartObject();
            w.WriteString("name", manifest.Name);
            w.WriteNumber("size", manifest.Length);
            CompressedImage? compressed = CompressedImage.FromManifest(manifest);
            StreamImage? stream = compressed is null ? StreamImage.FromManifest(manifest) : null;
            w.WriteString("format", compressed?.Format ?? (stream is null ? "raw" : CompressedManifests.StreamName(stream.Format)));
            if (compressed is not null)
            {
                w.WriteString("layout", "seekable");
                w.WriteNumber("rawSize", compressed.RawLength);
                w.WriteNumber("ratio", Math.Round(compressed.Ratio, 3));
                w.WriteNumber("zeroChunks", compressed.ZeroChunkCount);
                w.WriteString("rawSha256", Convert.ToHexStringLower(compressed.RawSha256));
            }
            else if (stream is not null)
            {
                w.WriteString("layout", "stream");
                w.WriteNumber("rawSize", stream.RawLength);
                w.WriteNumber("ratio", Math.Round(stream.Ratio, 3));
                w.WriteString("rawSha256", Convert.ToHexStringLower(stream.RawSha256));
            }

            w.WriteNumber("pieceSize", manifest.PieceLength);
            w.WriteNumber("pieceCount", manifest.PieceCount);
            w.WriteNumber("zeroPieces", manifest.ZeroPieceCount);
            w.WriteNumber("zeroBlocks", manifest.ZeroBlockCount);
            w.WriteNumber("repeatedBlocks", manifest.RepeatedBlockCount);
            w.WriteNumber("duplicatePieces", manifest.DuplicatePieceCount);
            w.WriteString("versions", manifest.Versions switch { TorrentVersions.Hybrid => "hybrid", TorrentVersions.V1 => "v1", TorrentVersions.V2 => "v2", _ => "none" });
            WriteHash(w, "infoHashV1", manifest.InfoHashV1);
            WriteHash(w, "infoHashV2", manifest.InfoHashV2);
            w.WriteBoolean("private", manifest.IsPrivate);
            w.WriteStartArray("signatures");
            foreach (ManifestSignature signature in manifest.Signatures)
            {
                w.WriteStartObject();
                w.WriteString("fingerprint", signature.Fingerprint);
                w.WriteBoolean("valid", signature.IsValid);
                if (SignerCertificate(signature) is { } certificate)
                {
                    w.WriteString("certificate", certificate);
                }

                if (signature.SignedAt is { } signedAt)
                {
                    w.WriteString("signedAt", signedAt);
                }

                if (signature.ExpiresAt is { } expiresAt)
                {
                    w.WriteString("expiresAt", expiresAt);
                }
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("trackers");
            foreach (string tracker in manifest.Trackers)
            {
                w.WriteStringValue(tracker);
            }

            w.WriteEndArray();
            if (manifest.Comment is not null)
            {
                w.WriteString("comment", manifest.Comment);
            }

            w.WriteString("magnet", Magnet(manifest));
            w.WriteEndObject();
        });
    }

    private static void WriteHash(Utf8JsonWriter w, string name, InfoHash? hash)
    {
        if (hash is InfoHash h)
        {
            w.WriteString(name, h.ToHex());
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static string VersionText(TorrentVersions versions) => versions switch
    {
        TorrentVersions.Hybrid => "hybrid (v1+v2)",
        TorrentVersions.V1 => "v1",
        TorrentVersions.V2 => "v2",
        _ => versions.ToString(),
    };

    /// <summary>Describes the signer's certificate carried with a signature (subject and issuer), or <see langword="null"/> when none is carried or readable.</summary>
    private static string? SignerCertificate(ManifestSignature signature)
    {
        if (signature.Certificates.Count == 0)
        {
            return null;
        }

        try
        {
            using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(signature.Certificates[0].Span);
            return $"{certificate.Subject}, issued by {certificate.Issuer}";
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return "(unreadable)";
        }
    }
}
