using System.Globalization;
using System.Security.Cryptography;
using BlockTorrent.Buffers;
using BlockTorrent.Devices;

namespace BlockTorrent.Compression;

/// <summary>The end check of a compressed deployment: the raw image on the target hashed against the manifest's SHA-256.</summary>
internal static class RawImageHash
{
    private const int ChunkLength = 4 * 1024 * 1024;

    /// <summary>Hashes the first <paramref name="rawLength"/> bytes of a device and compares them with <paramref name="sha256"/>.</summary>
    /// <exception cref="ArgumentException">The device is shorter than the raw image.</exception>
    public static async Task<bool> MatchesAsync(IBlockDevice device, long rawLength, ReadOnlyMemory<byte> sha256, CancellationToken cancellationToken)
    {
        CheckLength(device, rawLength, nameof(device));
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var chunk = new AlignedBuffer(ChunkLength);
        long offset = 0;
        while (offset < rawLength)
        {
            int length = (int)Math.Min(chunk.Length, rawLength - offset);
            await ReadExactlyAsync(device, offset, chunk.Memory[..length], cancellationToken).ConfigureAwait(false);
            sha.AppendData(chunk.Memory.Span[..length]);
            offset += length;
        }

        return sha.GetHashAndReset().AsSpan().SequenceEqual(sha256.Span);
    }

    /// <summary>Refuses a device shorter than the raw image.</summary>
    /// <exception cref="ArgumentException">The device is shorter than <paramref name="rawLength"/>.</exception>
    public static void CheckLength(IBlockDevice device, long rawLength, string parameterName)
    {
        if (device.Length < rawLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"'{device.Name}' is {device.Length} bytes long, shorter than the raw image ({rawLength} bytes)."), parameterName);
        }
    }

    /// <summary>Reads exactly <paramref name="buffer"/>'s length at <paramref name="offset"/>.</summary>
    /// <exception cref="EndOfStreamException">The device ends first.</exception>
    public static async ValueTask ReadExactlyAsync(IBlockDevice device, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            int n = await device.ReadAsync(offset, buffer, cancellationToken).ConfigureAwait(false);
            if (n <= 0)
            {
                throw new EndOfStreamException(string.Create(CultureInfo.InvariantCulture, $"'{device.Name}' ended at {offset}, inside the raw image."));
            }

            offset += n;
            buffer = buffer[n..];
        }
    }
}
