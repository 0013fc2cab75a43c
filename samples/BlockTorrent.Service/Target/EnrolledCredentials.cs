using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Manifest;

namespace BlockTorrent.Service.Target;

/// <summary>What a target's enrolment gives its deployment: the swarm certificate (with the target's key) and the trust anchors for manifests.</summary>
/// <param name="Certificate">The peer certificate for the depot's TLS swarms; <see langword="null"/> when its swarms are plain. The caller disposes it.</param>
/// <param name="Trust">The anchors the depot's manifests are signed to; <see langword="null"/> when the depot signs nothing.</param>
/// <param name="Signer">The fingerprint of the depot's signing key, for messages; <see langword="null"/> when it signs nothing.</param>
internal sealed record EnrolledCredentials(X509Certificate2? Certificate, ManifestTrust? Trust, string? Signer);
