using System.Text.Json;
using System.Text.Json.Serialization;

namespace BlockTorrent.Service.Enrolment;

/// <summary>
/// What the depot answers an enrolment with (<c>POST /enroll</c>, JSON): the swarm certificate it issued for the
/// target's key, its swarm authority's certificate, and what the target trusts for manifests. No private key.
/// </summary>
internal sealed class EnrolmentAnswer
{
    /// <summary>The longest answer a target reads.</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>Gets or sets the peer certificate issued for the target's key (PEM, for every torrent of the authority); <see langword="null"/> when the depot's swarms are plain.</summary>
    [JsonPropertyName("certificate")]
    public string? Certificate { get; set; }

    /// <summary>Gets or sets the depot's swarm authority (PEM); <see langword="null"/> when its swarms are plain.</summary>
    [JsonPropertyName("authority")]
    public string? Authority { get; set; }

    /// <summary>Gets or sets the trust anchors for the depot's manifests (PEM: its signing key's public half, and its certificate chain when it has one); <see langword="null"/> when the depot signs nothing.</summary>
    [JsonPropertyName("trust")]
    public string? Trust { get; set; }

    /// <summary>Gets or sets the fingerprint of the depot's signing key (<c>SHA256:HEX</c>); <see langword="null"/> when it signs nothing.</summary>
    [JsonPropertyName("signer")]
    public string? Signer { get; set; }

    /// <summary>Gets or sets, in a target's saved copy only, the fingerprint of the HTTPS certificate the depot presented when the target enrolled: the depot this enrolment belongs to.</summary>
    [JsonPropertyName("depot")]
    public string? Depot { get; set; }

    /// <summary>Serializes the answer.</summary>
    /// <returns>UTF-8 JSON.</returns>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, EnrolmentJson.Default.EnrolmentAnswer);

    /// <summary>Parses an answer.</summary>
    /// <param name="json">UTF-8 JSON.</param>
    /// <returns>The answer.</returns>
    /// <exception cref="JsonException">It is not an enrolment answer.</exception>
    public static EnrolmentAnswer Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, EnrolmentJson.Default.EnrolmentAnswer) ?? throw new JsonException("the answer is null");
}

/// <summary>The source-generated JSON of <see cref="EnrolmentAnswer"/> (the service is trimmed-friendly: no reflection).</summary>
[JsonSerializable(typeof(EnrolmentAnswer))]
internal sealed partial class EnrolmentJson : JsonSerializerContext;
