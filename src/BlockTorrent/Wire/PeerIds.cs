using System.Security.Cryptography;

namespace BlockTorrent.Wire;

/// <summary>Makes and reads Azureus-style peer ids: <c>-BT0100-</c> followed by 12 random characters.</summary>
internal static class PeerIds
{
    /// <summary>BlockTorrent's client prefix, version 0.1.0.0.</summary>
    public static ReadOnlySpan<byte> Prefix => "-BT0100-"u8;

    private static ReadOnlySpan<byte> Alphabet => "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"u8;

    /// <summary>Creates a new random peer id.</summary>
    /// <returns>20 bytes: the prefix and 12 random letters and digits (printable, so logs and trackers show it).</returns>
    public static byte[] Create()
    {
        byte[] id = new byte[PeerHandshake.IdSize];
        Prefix.CopyTo(id);
        Span<byte> random = id.AsSpan(Prefix.Length);
        for (int i = 0; i < random.Length; i++)
        {
            random[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }

        return id;
    }
}
