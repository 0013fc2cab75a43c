using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using BlockTorrent.Bencode;

namespace BlockTorrent.Manifest;

/// <summary>
/// The <c>signatures</c> entry of a .torrent: encodes one signature and reads every signature it recognises.
/// </summary>
/// <remarks>
/// <para>
/// The layout follows BEP 35: <c>signatures</c> maps a signer's name to a dictionary of <c>info</c> (what is signed,
/// beside the torrent) and <c>signature</c>. Unlike BEP 35, which signs the info dictionary with RSA, the signed
/// bytes are the bencoded <c>info</c> entry itself, exactly as it appears, and it holds the torrent's info-hashes:
/// </para>
/// <code>
/// signatures: { "blocktorrent": {
///     certificates: [ DER X.509, ... ] (optional: the signer's certificate first, then intermediates),
///     info: { algorithm: "ecdsa-p256-sha256", context: "BlockTorrent manifest",
///             created: Unix seconds (optional), expires: Unix seconds (optional),
///             "info hash v1": 20 bytes (v1, hybrid), "info hash v2": 32 bytes (v2, hybrid),
///             "public key": DER SubjectPublicKeyInfo },
///     signature: DER ECDSA signature (RFC 3279) over the bencoded info above } }
/// </code>
/// <para>
/// A signature is valid only when it verifies and its info-hashes are exactly this torrent's, every one of them:
/// the v1 half of a hybrid torrent cannot be swapped under a signature over the v2 half. The context string keeps a
/// signature made for something else with the same key from ever reading as a manifest signature. The signing and
/// expiry times are signed; the certificates are not (each is signed by its issuer, and the trust check requires the
/// first one's key to be the signed public key). Entries of another algorithm (a BEP 35 RSA signature, say) are kept
/// in the file but not reported.
/// </para>
/// </remarks>
internal static class ManifestSigning
{
    /// <summary>The name of the entry BlockTorrent writes under <c>signatures</c>.</summary>
    internal const string EntryName = "blocktorrent";

    /// <summary>The algorithm name recorded in the signed info.</summary>
    internal const string Algorithm = "ecdsa-p256-sha256";

    /// <summary>The domain-separation string recorded in the signed info.</summary>
    internal const string Context = "BlockTorrent manifest";

    private const string P256Oid = "1.2.840.10045.3.1.7";

    /// <summary>Checks that a key is an ECDSA key on NIST P-256 (the only curve this format names).</summary>
    internal static void CheckKey(ECDsa key, string paramName)
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        ECParameters parameters = key.ExportParameters(includePrivateParameters: false);
        if (parameters.Curve.Oid?.Value != P256Oid && parameters.Curve.Oid?.FriendlyName is not ("nistP256" or "ECDSA_P256"))
        {
            throw new ArgumentException($"The signing key is on curve '{parameters.Curve.Oid?.FriendlyName ?? parameters.Curve.Oid?.Value ?? "explicit"}'; manifests are signed with ECDSA P-256.", paramName);
        }
    }

    /// <summary>Encodes the <c>signatures</c> dictionary holding one signature of the given info-hashes.</summary>
    internal static byte[] Sign(ECDsa key, InfoHash? v1, InfoHash? v2, ManifestSigningOptions options, DateTimeOffset now)
    {
        CheckKey(key, nameof(key));
        byte[] publicKey = key.ExportSubjectPublicKeyInfo();
        if (options.Certificates.Count > 0 && !options.Certificates[0].PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(publicKey))
        {
            throw new ArgumentException($"The first certificate ('{options.Certificates[0].Subject}') is not the signing key's: the signer's own certificate comes first.", nameof(options));
        }

        DateTimeOffset signedAt = options.SignedAt ?? now;
        if (options.ExpiresAt is { } expires && expires <= signedAt)
        {
            throw new ArgumentException($"The signature would expire ({expires:u}) before it is made ({signedAt:u}).", nameof(options));
        }

        byte[] info = EncodeInfo(publicKey, v1, v2, signedAt.ToUnixTimeSeconds(), options.ExpiresAt?.ToUnixTimeSeconds());
        byte[] signature = key.SignData(info, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        var buffer = new ArrayBufferWriter<byte>(info.Length + signature.Length + 64);
        var writer = new BencodeWriter(buffer);
        writer.WriteStartDictionary();
        writer.WriteString(EntryName);
        writer.WriteStartDictionary();
        if (options.Certificates.Count > 0)
        {
            writer.WriteString("certificates");
            writer.WriteStartList();
            foreach (var certificate in options.Certificates)
            {
                writer.WriteString(certificate.RawData);
            }

            writer.WriteEnd();
        }

        writer.WriteString("info");
        writer.WriteRaw(info);
        writer.WriteString("signature");
        writer.WriteString(signature);
        writer.WriteEnd();
        writer.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads the recognised signatures of a <c>signatures</c> dictionary (already checked to be valid bencode) and
    /// checks each against the torrent's info-hashes.
    /// </summary>
    internal static IReadOnlyList<ManifestSignature> Read(ReadOnlySpan<byte> signatures, InfoHash? v1, InfoHash? v2)
    {
        var found = new List<ManifestSignature>();
        var reader = new BencodeReader(signatures);
        if (!reader.Read() || reader.TokenType != BencodeTokenType.StartDictionary)
        {
            return found;
        }

        while (reader.Read() && reader.TokenType == BencodeTokenType.String)
        {
            reader.Read();
            if (reader.TokenType != BencodeTokenType.StartDictionary)
            {
                reader.Skip();
                continue;
            }

            ReadOnlySpan<byte> info = default;
            ReadOnlySpan<byte> signature = default;
            var certificates = new List<ReadOnlyMemory<byte>>();
            while (reader.Read() && reader.TokenType == BencodeTokenType.String)
            {
                bool isInfo = reader.ValueSpan.SequenceEqual("info"u8);
                bool isSignature = reader.ValueSpan.SequenceEqual("signature"u8);
                bool isCertificates = reader.ValueSpan.SequenceEqual("certificates"u8);
                reader.Read();
                int start = reader.TokenStart;
                if (isCertificates && reader.TokenType == BencodeTokenType.StartList)
                {
                    while (reader.Read() && reader.TokenType != BencodeTokenType.EndList)
                    {
                        if (reader.TokenType == BencodeTokenType.String)
                        {
                            certificates.Add(reader.ValueSpan.ToArray());
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else if (isInfo && reader.TokenType == BencodeTokenType.StartDictionary)
                {
                    reader.Skip();
                    info = signatures[start..reader.BytesConsumed];
                }
                else if (isSignature && reader.TokenType == BencodeTokenType.String)
                {
                    signature = reader.ValueSpan;
                }
                else
                {
                    reader.Skip();
                }
            }

            if (!info.IsEmpty && !signature.IsEmpty && ReadInfo(info) is { } signed)
            {
                found.Add(new ManifestSignature(signed.PublicKey, Verify(info, signature, signed, v1, v2), signed.Created, signed.Expires, certificates));
            }
        }

        return found;
    }

    private static bool Verify(ReadOnlySpan<byte> info, ReadOnlySpan<byte> signature, SignedInfo signed, InfoHash? v1, InfoHash? v2)
    {
        // Every info-hash the torrent has must be signed, and nothing else.
        if (!SameHash(signed.V1, v1) || !SameHash(signed.V2, v2))
        {
            return false;
        }

        using var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(signed.PublicKey, out int read);
            if (read != signed.PublicKey.Length)
            {
                return false;
            }

            CheckKey(key, nameof(info));
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return false;
        }

        return key.VerifyData(info, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    private static bool SameHash(byte[]? signed, InfoHash? actual)
        => signed is null ? actual is null : actual is { } hash && hash.Span.SequenceEqual(signed);

    private static byte[] EncodeInfo(byte[] publicKey, InfoHash? v1, InfoHash? v2, long created, long? expires)
    {
        var buffer = new ArrayBufferWriter<byte>(publicKey.Length + 160);
        var writer = new BencodeWriter(buffer);

        // Keys in ascending byte order.
        writer.WriteStartDictionary();
        writer.WriteString("algorithm");
        writer.WriteString(Algorithm);
        writer.WriteString("context");
        writer.WriteString(Context);
        writer.WriteString("created");
        writer.WriteInteger(created);
        if (expires is { } expiry)
        {
            writer.WriteString("expires");
            writer.WriteInteger(expiry);
        }

        if (v1 is { } hash1)
        {
            writer.WriteString("info hash v1");
            writer.WriteString(hash1.Span);
        }

        if (v2 is { } hash2)
        {
            writer.WriteString("info hash v2");
            writer.WriteString(hash2.Span);
        }

        writer.WriteString("public key");
        writer.WriteString(publicKey);
        writer.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads the signed info of a recognised signature; <see langword="null"/> for another algorithm or context.</summary>
    private static SignedInfo? ReadInfo(ReadOnlySpan<byte> info)
    {
        string? algorithm = null, context = null;
        byte[]? v1 = null, v2 = null, publicKey = null;
        DateTimeOffset? created = null, expires = null;
        var reader = new BencodeReader(info);
        reader.Read();
        while (reader.Read() && reader.TokenType == BencodeTokenType.String)
        {
            string key = Encoding.ASCII.GetString(reader.ValueSpan);
            reader.Read();
            if (reader.TokenType == BencodeTokenType.Integer && key is "created" or "expires")
            {
                // An integer outside the range of dates makes the signature unreadable rather than dateless.
                if (reader.IntegerValue < DateTimeOffset.MinValue.ToUnixTimeSeconds() || reader.IntegerValue > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
                {
                    return null;
                }

                DateTimeOffset time = DateTimeOffset.FromUnixTimeSeconds(reader.IntegerValue);
                if (key == "created")
                {
                    created = time;
                }
                else
                {
                    expires = time;
                }

                continue;
            }

            if (reader.TokenType != BencodeTokenType.String)
            {
                reader.Skip();
                continue;
            }

            switch (key)
            {
                case "algorithm":
                    algorithm = Encoding.ASCII.GetString(reader.ValueSpan);
                    break;
                case "context":
                    context = Encoding.ASCII.GetString(reader.ValueSpan);
                    break;
                case "info hash v1" when reader.ValueSpan.Length == SHA1.HashSizeInBytes:
                    v1 = reader.ValueSpan.ToArray();
                    break;
                case "info hash v2" when reader.ValueSpan.Length == SHA256.HashSizeInBytes:
                    v2 = reader.ValueSpan.ToArray();
                    break;
                case "public key":
                    publicKey = reader.ValueSpan.ToArray();
                    break;
                default:
                    break;
            }
        }

        return algorithm == Algorithm && context == Context && publicKey is not null && (v1 is not null || v2 is not null)
            ? new SignedInfo(publicKey, v1, v2, created, expires)
            : null;
    }

    private sealed record SignedInfo(byte[] PublicKey, byte[]? V1, byte[]? V2, DateTimeOffset? Created, DateTimeOffset? Expires);
}
