using System.Text;

namespace BlockTorrent.Testing;

/// <summary>
/// Deterministic disk-image-like data that compresses about 3:1, as real images do: blocks of text (words drawn from a
/// small vocabulary, like logs and configuration), of repetitive binary records (like executables and tables), of
/// incompressible random bytes, and runs of zeros (256 KiB to 2 MiB).
/// </summary>
public static class CompressibleImage
{
    /// <summary>The granularity of the layout: 64 KiB.</summary>
    public const int BlockSize = 64 * 1024;

    private static readonly string[] Words =
    [
        "kernel", "device", "block", "piece", "torrent", "image", "write", "offset", "sector", "partition", "mount",
        "systemd", "service", "started", "stopped", "error", "warning", "info", "debug", "network", "address", "config",
        "user", "root", "home", "var", "log", "lib", "usr", "bin", "etc", "boot", "firmware", "module", "loaded",
    ];

    /// <summary>Makes an image in memory.</summary>
    /// <param name="length">The image length in bytes.</param>
    /// <param name="seed">The seed; the same seed and length give the same bytes.</param>
    /// <returns>The image.</returns>
    public static byte[] Create(int length, int seed = 1)
    {
        byte[] image = new byte[length];
        var random = new Random(seed);
        var text = new StringBuilder();
        int zeroBlocks = 0;
        for (int offset = 0; offset < length; offset += BlockSize)
        {
            Span<byte> block = image.AsSpan(offset, Math.Min(BlockSize, length - offset));
            int kind = random.Next(100);
            if (zeroBlocks > 0)
            {
                zeroBlocks--;
                continue;
            }
            else if (kind < 5 && offset > 0)
            {
                // Unused space comes in runs of 4 to 32 blocks.
                zeroBlocks = random.Next(3, 32);
                continue;
            }
            else if (kind < 35)
            {
                random.NextBytes(block);
            }
            else if (kind < 60)
            {
                for (int i = 0; i + 16 <= block.Length; i += 16)
                {
                    BitConverter.TryWriteBytes(block[i..], i / 16);
                    BitConverter.TryWriteBytes(block[(i + 4)..], random.Next(256));
                    BitConverter.TryWriteBytes(block[(i + 8)..], 0x00400000L + (random.Next(64) * 16));
                }
            }
            else
            {
                text.Clear();
                while (text.Length < block.Length)
                {
                    text.Append(Words[random.Next(Words.Length)]).Append(random.Next(8) == 0 ? '\n' : ' ');
                }

                Encoding.ASCII.GetBytes(text.ToString(0, block.Length), block);
            }
        }

        return image;
    }
}
