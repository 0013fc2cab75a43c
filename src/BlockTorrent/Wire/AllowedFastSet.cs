using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace BlockTorrent.Wire;

/// <summary>Computes the BEP 6 allowed fast set: the pieces a peer may download from us while choked.</summary>
internal static class AllowedFastSet
{
    /// <summary>BEP 6's suggested size of the set: 10.</summary>
    public const int DefaultCount = 10;

    /// <summary>
    /// Computes the canonical allowed fast set for a peer at an IPv4 address (BEP 6 has no provision for IPv6;
    /// IPv4-mapped IPv6 addresses are treated as IPv4).
    /// </summary>
    /// <param name="address">The peer's address.</param>
    /// <param name="infoHash">The 20-byte info-hash of the torrent.</param>
    /// <param name="pieceCount">The number of pieces in the torrent.</param>
    /// <param name="count">How many pieces to choose; at most <paramref name="pieceCount"/> are chosen.</param>
    /// <param name="destination">Receives the piece indices, in the order the algorithm picks them.</param>
    /// <returns>The number of indices written.</returns>
    /// <exception cref="ArgumentException">The address is not IPv4, the info-hash is not 20 bytes, or the destination is too short.</exception>
    public static int Compute(IPAddress address, ReadOnlySpan<byte> infoHash, int pieceCount, int count, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceCount);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"The allowed fast set is defined for IPv4 addresses only, not {address}.", nameof(address));
        }

        if (infoHash.Length != PeerHandshake.IdSize)
        {
            throw new ArgumentException($"The info-hash is {PeerHandshake.IdSize} bytes, not {infoHash.Length}.", nameof(infoHash));
        }

        // With fewer pieces than asked for, the loop could never find enough distinct indices.
        int k = Math.Min(count, pieceCount);
        if (destination.Length < k)
        {
            throw new ArgumentException($"The destination holds {destination.Length} indices; {k} are needed.", nameof(destination));
        }

        Span<byte> x = stackalloc byte[4 + PeerHandshake.IdSize];
        if (!address.TryWriteBytes(x, out _))
        {
            throw new ArgumentException($"Could not read the bytes of {address}.", nameof(address));
        }

        x[3] = 0; // the /24 network, so several addresses of one network share one set
        infoHash.CopyTo(x[4..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(x, hash);
        int found = 0;
        for (bool first = true; found < k; first = false)
        {
            if (!first)
            {
                // Hash the previous hash (through a copy: the source and destination must not overlap).
                hash.CopyTo(x);
                SHA1.HashData(x[..SHA1.HashSizeInBytes], hash);
            }

            for (int i = 0; i < 5 && found < k; i++)
            {
                uint y = BinaryPrimitives.ReadUInt32BigEndian(hash[(i * 4)..]);
                int index = (int)(y % (uint)pieceCount);
                if (!destination[..found].Contains(index))
                {
                    destination[found++] = index;
                }
            }
        }

        return found;
    }
}
