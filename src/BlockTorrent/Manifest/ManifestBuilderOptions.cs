using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BlockTorrent.Manifest;

/// <summary>How <see cref="ManifestBuilder"/> makes a .torrent of an image.</summary>
public sealed class ManifestBuilderOptions
{
    /// <summary>Gets the default options.</summary>
    public static ManifestBuilderOptions Default { get; } = new();

    /// <summary>
    /// Gets or sets the piece length in bytes: a power of two of at least 16 KiB, or 0 to choose automatically
    /// (see <see cref="ManifestBuilder.ChoosePieceLength"/>).
    /// </summary>
    /// <value>The default is 0 (automatic).</value>
    public int PieceLength { get; set; }

    /// <summary>Gets or sets the metadata versions to write.</summary>
    /// <value>The default is <see cref="TorrentVersions.Hybrid"/>, which every client can join.</value>
    public TorrentVersions Versions { get; set; } = TorrentVersions.Hybrid;

    /// <summary>Gets the tracker URLs; each becomes its own tier.</summary>
    /// <value>The default is empty (trackerless: LSD, given peers).</value>
    public IList<string> Trackers { get; } = [];

    /// <summary>Gets the web seed URLs (BEP 19).</summary>
    /// <value>The default is empty.</value>
    public IList<string> WebSeeds { get; } = [];

    /// <summary>Gets or sets the free-text comment.</summary>
    /// <value>The default is <see langword="null"/> (none).</value>
    public string? Comment { get; set; }

    /// <summary>Gets or sets the image name (the torrent's <c>name</c>).</summary>
    /// <value>The default is <see langword="null"/>: the file name of the source's path or device name.</value>
    public string? Name { get; set; }

    /// <summary>Gets or sets a value indicating whether the torrent is private (BEP 27).</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool IsPrivate { get; set; }

    /// <summary>Gets or sets the <c>created by</c> field.</summary>
    /// <value>The default is <see langword="null"/> (omitted).</value>
    public string? CreatedBy { get; set; }

    /// <summary>Gets or sets the <c>creation date</c> field.</summary>
    /// <value>The default is <see langword="null"/> (omitted, so the same image always gives the same .torrent).</value>
    public DateTimeOffset? CreationDate { get; set; }

    /// <summary>
    /// Gets or sets the key that signs the manifest (see <see cref="TorrentManifest.WithSignature(System.Security.Cryptography.ECDsa)"/>): an ECDSA P-256
    /// key with its private part. The caller keeps ownership of the key.
    /// </summary>
    /// <value>The default is <see langword="null"/> (unsigned).</value>
    public ECDsa? SigningKey { get; set; }

    /// <summary>
    /// Gets or sets the certificate authority of the swarm, written as the info dictionary's <c>ssl-cert</c> (its
    /// certificate only, as PEM; never a key): peers then connect over TLS with certificates it signed, as libtorrent's
    /// SSL torrents do. See <see cref="SwarmCertificates"/>.
    /// </summary>
    /// <value>The default is <see langword="null"/> (plain peer connections).</value>
    public X509Certificate2? SwarmAuthority { get; set; }

    /// <summary>Gets or sets where hashing progress is reported.</summary>
    /// <value>The default is <see langword="null"/> (none).</value>
    public IProgress<ManifestBuildProgress>? Progress { get; set; }

    /// <summary>Gets or sets the number of threads that hash pieces, or 0 for one per processor.</summary>
    /// <value>The default is 0 (<see cref="Environment.ProcessorCount"/>).</value>
    public int MaxDegreeOfParallelism { get; set; }

    /// <summary>
    /// Gets or sets the size of each sequential read from the source, in bytes; rounded up to whole pieces. Three
    /// such buffers are in use at most, which bounds the builder's memory.
    /// </summary>
    /// <value>The default is 16 MiB.</value>
    public int ReadChunkSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (PieceLength != 0 && (PieceLength < TorrentInfo.MinPieceLength || PieceLength > TorrentInfo.MaxPieceLength || !System.Numerics.BitOperations.IsPow2(PieceLength)))
        {
            throw new ArgumentException($"PieceLength is {PieceLength}; it must be 0 (automatic) or a power of two from 16 KiB to 256 MiB.", nameof(PieceLength));
        }

        if (Versions is not (TorrentVersions.V1 or TorrentVersions.V2 or TorrentVersions.Hybrid))
        {
            throw new ArgumentException($"Versions is {Versions}; it must be V1, V2 or Hybrid.", nameof(Versions));
        }

        if (MaxDegreeOfParallelism < 0)
        {
            throw new ArgumentException($"MaxDegreeOfParallelism is {MaxDegreeOfParallelism}; it must be 0 (automatic) or positive.", nameof(MaxDegreeOfParallelism));
        }

        if (ReadChunkSize < TorrentInfo.MinPieceLength)
        {
            throw new ArgumentException($"ReadChunkSize is {ReadChunkSize}; it must be at least 16 KiB.", nameof(ReadChunkSize));
        }

        if (SigningKey is not null)
        {
            ManifestSigning.CheckKey(SigningKey, nameof(SigningKey));
        }

        foreach (string url in Trackers.Concat(WebSeeds))
        {
            if (string.IsNullOrWhiteSpace(url))
            {
                throw new ArgumentException("A tracker or web seed URL is empty.", nameof(Trackers));
            }
        }
    }
}
