using System.Runtime.CompilerServices;

namespace BlockTorrent.Wire;

/// <summary>32 bytes held inline (a BEP 52 pieces root), so a message carrying one needs no array.</summary>
[InlineArray(Size)]
internal struct Sha256Hash : IEquatable<Sha256Hash>
{
    /// <summary>The number of bytes: 32.</summary>
    public const int Size = 32;

    private byte _element0;

    /// <summary>Copies 32 bytes into a new value.</summary>
    /// <param name="bytes">Exactly 32 bytes.</param>
    /// <returns>The value.</returns>
    public static Sha256Hash From(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"A SHA-256 hash is {Size} bytes, not {bytes.Length}.", nameof(bytes));
        }

        Sha256Hash hash = default;
        bytes.CopyTo(hash);
        return hash;
    }

    /// <inheritdoc />
    public readonly bool Equals(Sha256Hash other) => ((ReadOnlySpan<byte>)this).SequenceEqual(other);

    /// <inheritdoc />
    public override readonly bool Equals(object? obj) => obj is Sha256Hash other && Equals(other);

    /// <inheritdoc />
    public override readonly int GetHashCode() => System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(this);
}
