namespace BlockTorrent.Cli.Commands;

/// <summary>
/// A realistic synthetic disk image for the demo: incompressible data, long zero runs (free space), and blocks that
/// repeat earlier ones (identical files, copies), laid out in 4 MiB regions from a fixed seed.
/// </summary>
internal static class SyntheticImage
{
    private const int Region = 4 << 20;

    public static async Task WriteAsync(string path, long size, CancellationToken cancellationToken)
    {
        var random = new Random(20261125);
        byte[] buffer = new byte[Region];
        byte[] repeated = new byte[Region];
        random.NextBytes(repeated);
        await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
        for (long offset = 0; offset < size; offset += Region)
        {
            int length = (int)Math.Min(Region, size - offset);

            // Half random, a quarter zeros, a quarter a repeat of one block.
            switch (random.Next(4))
            {
                case 0:
                case 1:
                    random.NextBytes(buffer.AsSpan(0, length));
                    await stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    break;
                case 2:
                    Array.Clear(buffer);
                    await stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    await stream.WriteAsync(repeated.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }
}
