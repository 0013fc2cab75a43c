using System.Numerics;

namespace BlockTorrent.Compression;

/// <summary>How <see cref="CompressedImageBuilder"/> compresses an image.</summary>
public sealed class CompressedImageOptions
{
    /// <summary>Gets the defaults.</summary>
    public static CompressedImageOptions Default { get; } = new();

    /// <summary>Gets or sets the zstd compression level, from 1 (fastest) to 22 (smallest).</summary>
    /// <value>The default is 3, zstd's own default.</value>
    public int Level { get; set; } = 3;

    /// <summary>
    /// Gets or sets the raw bytes of each chunk of the zero map: a power of two from 4 KiB to 4 MiB. All-zero chunks
    /// are left out of the file and never sent; smaller chunks find more of them, and take a bit each in the manifest.
    /// </summary>
    /// <value>The default is 64 KiB.</value>
    public int ChunkSize { get; set; } = 64 * 1024;

    /// <summary>Gets or sets where compression progress is reported (raw bytes read and compressed).</summary>
    /// <value>The default is <see langword="null"/> (none).</value>
    public IProgress<Manifest.ManifestBuildProgress>? Progress { get; set; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Level is < 1 or > 22)
        {
            throw new ArgumentException($"Level is {Level}; it must be from 1 to 22.", nameof(Level));
        }

        if (ChunkSize is < CompressedImage.CutAlignment or > 4 * 1024 * 1024 || !BitOperations.IsPow2(ChunkSize))
        {
            throw new ArgumentException($"ChunkSize is {ChunkSize}; it must be a power of two from 4 KiB to 4 MiB.", nameof(ChunkSize));
        }
    }
}
