using System.Security.Cryptography;
using BlockTorrent.Buffers;
using BlockTorrent.Devices;

namespace BlockTorrent.Compression;

/// <summary>The end check of a compressed deployment: the raw image on the target hashed against the manifest's SHA-256.</summary>
internal static class RawImageHash
{
    private const int ChunkLength = 4 * 1024 * 1024;

    /// <summary>Hashes the first <paramref name="rawLength"/> bytes of a device and compares them with <paramref name="sha256"/>.</summary>
    public static async Task<bool> MatchesAsync(IBlockDevice device, long rawLength, ReadOnlyMemory<byte> sha256, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var chunk = new AlignedBuffer(ChunkLength);
        long offset = 0;
        while (offset < rawLength)
        {
            int length = (int)Math.Min(chunk.Length, rawLength - offset);
            await CompressedImageDevice.ReadExactlyAsync(device, offset, chunk.Memory[..length], cancellationToken).ConfigureAwait(false);
            sha.AppendData(chunk.Memory.Span[..length]);
            offset += length;
        }

        return sha.GetHashAndReset().AsSpan().SequenceEqual(sha256.Span);
    }
}
