using System.Net;
using BlockTorrent.Manifest;

namespace BlockTorrent.Cli.Commands;

/// <summary>The parsed options of one <c>deploy</c>.</summary>
internal sealed record DeployRequest
{
    public required string Source { get; init; }

    public required string Target { get; init; }

    public IReadOnlyList<IPEndPoint> Peers { get; init; } = [];

    public IReadOnlyList<string> Trackers { get; init; } = [];

    /// <summary>Gets the web seeds of <c>--web-seed</c>.</summary>
    public IReadOnlyList<string> WebSeeds { get; init; } = [];

    public bool Lsd { get; init; }

    public IPEndPoint? Listen { get; init; }

    public string? CongestionControl { get; init; }

    /// <summary>Gets the client's bandwidth caps (<c>--max-upload-rate</c>, <c>--max-download-rate</c>).</summary>
    public SwarmSupport.Rates Rates { get; init; }

    public TimeSpan SeedAfter { get; init; }

    public bool Verify { get; init; }

    public bool Force { get; init; }

    /// <summary>Gets a value indicating whether a block device is claimed exclusively (O_EXCL); <c>--no-exclusive</c> clears it.</summary>
    public bool Exclusive { get; init; } = true;

    public bool DryRun { get; init; }

    public string? ResumeFile { get; init; }

    /// <summary>Gets the .torrent of <c>--previous</c>: the image the target last held, or <see langword="null"/> for the one remembered.</summary>
    public string? Previous { get; init; }

    public TimeSpan? Timeout { get; init; }

    public TimeSpan? StallTimeout { get; init; }

    public string? TrustFile { get; init; }

    public string? ServerCertificateFile { get; init; }

    public string? ServerFingerprint { get; init; }
    public string? TlsCertificate { get; init; }

    public string? TlsKey { get; init; }

    public InfoHash? Btih { get; init; }

    public bool Json { get; init; }

    public bool ExitOnStdinEof { get; init; }

    public long? ScratchSize { get; init; }

    public string? ScratchDirectory { get; init; }
}
