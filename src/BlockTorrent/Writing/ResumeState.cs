using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BlockTorrent.Manifest;

namespace BlockTorrent.Writing;

/// <summary>
/// Which pieces of one image were verified and durable on one device when a deployment stopped, saved to a small
/// file so a rerun knows which pieces to read back and hash instead of fetching them. It is a hint, never proof:
/// anything may have written the device since (another image, another tool, a loop device re-attached to another
/// file), or the file may come from another device of the same name, so every piece it names is hashed again from
/// the device (<see cref="PieceWriter.ApplyResumeStateAsync"/>) before it counts as there.
/// </summary>
/// <remarks>
/// The file names the image (info-hash), the device (name and length) and the piece count, and ends with a SHA-256
/// checksum of everything before it. <see cref="Save"/> writes a temporary file, flushes it and renames it over the
/// old one, so a crash leaves the old state or the new one, never a torn one. <see cref="O:BlockTorrent.Writing.ResumeState.TryLoad"/> accepts a file
/// only when all of it checks out; anything else proves nothing.
/// </remarks>
public sealed class ResumeState
{
    private const int Version = 1;
    private const int MaxFileBytes = 64 << 20;
    private static ReadOnlySpan<byte> Magic => "BTRESUME"u8;

    private readonly PieceSet _pieces;

    /// <summary>Initializes a new, empty instance.</summary>
    /// <param name="infoHash">The image's info-hash: v1 when it has one, else v2 (see <see cref="GetIdentity"/>).</param>
    /// <param name="deviceName">The device's name (<see cref="Devices.IBlockDevice.Name"/>).</param>
    /// <param name="deviceLength">The device's length in bytes.</param>
    /// <param name="pieceCount">The image's piece count.</param>
    public ResumeState(InfoHash infoHash, string deviceName, long deviceLength, int pieceCount)
    {
        if (infoHash.Span.IsEmpty)
        {
            throw new ArgumentException("The info-hash is empty.", nameof(infoHash));
        }

        ArgumentException.ThrowIfNullOrEmpty(deviceName);
        ArgumentOutOfRangeException.ThrowIfNegative(deviceLength);
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        InfoHash = infoHash;
        DeviceName = deviceName;
        DeviceLength = deviceLength;
        _pieces = new PieceSet(pieceCount);
    }

    /// <summary>Gets the image's info-hash.</summary>
    public InfoHash InfoHash { get; }

    /// <summary>Gets the device's name.</summary>
    public string DeviceName { get; }

    /// <summary>Gets the device's length in bytes.</summary>
    public long DeviceLength { get; }

    /// <summary>Gets the image's piece count.</summary>
    public int PieceCount => _pieces.PieceCount;

    /// <summary>Gets the number of pieces recorded as verified and durable.</summary>
    public int Count => _pieces.Count;

    /// <summary>Gets the recorded pieces in ascending order.</summary>
    public IEnumerable<int> Pieces
    {
        get
        {
            for (int p = 0; p < PieceCount; p++)
            {
                if (_pieces.Contains(p))
                {
                    yield return p;
                }
            }
        }
    }

    /// <summary>Gets a value indicating whether a piece is recorded.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when recorded.</returns>
    public bool Contains(int piece)
    {
        CheckPiece(piece);
        return _pieces.Contains(piece);
    }

    /// <summary>Records a piece as verified and durable on the device.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when it was not recorded before.</returns>
    public bool Add(int piece)
    {
        CheckPiece(piece);
        return _pieces.Add(piece);
    }

    /// <summary>Checks that this state belongs to an image, device and piece count.</summary>
    /// <param name="infoHash">The expected info-hash.</param>
    /// <param name="deviceName">The expected device name.</param>
    /// <param name="deviceLength">The expected device length.</param>
    /// <param name="pieceCount">The expected piece count.</param>
    /// <param name="mismatch">What differs, when something does.</param>
    /// <returns><see langword="true"/> when everything matches.</returns>
    public bool Matches(InfoHash infoHash, string deviceName, long deviceLength, int pieceCount, [NotNullWhen(false)] out string? mismatch)
    {
        mismatch = !InfoHash.Equals(infoHash) ? $"it is for image {InfoHash}, not {infoHash}"
            : !string.Equals(DeviceName, deviceName, StringComparison.Ordinal) ? $"it is for device '{DeviceName}', not '{deviceName}'"
            : DeviceLength != deviceLength ? string.Create(CultureInfo.InvariantCulture, $"it is for a device of {DeviceLength} bytes, but '{deviceName}' has {deviceLength}")
            : PieceCount != pieceCount ? string.Create(CultureInfo.InvariantCulture, $"it records {PieceCount} pieces, but the image has {pieceCount}")
            : null;
        return mismatch is null;
    }

    /// <summary>Saves the state atomically: a temporary file beside <paramref name="path"/>, flushed to disk, renamed over it.</summary>
    /// <param name="path">The state file.</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        byte[] bytes = Serialize();
        string temporary = fullPath + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            throw new IOException($"Could not save the resume state to '{fullPath}': {ex.Message}", ex);
        }
    }

    /// <summary>Gets the info-hash a resume state records for an image: the v1 hash when it has one (hybrid or v1), else the v2 hash.</summary>
    /// <param name="manifest">The image's manifest.</param>
    /// <returns>The info-hash.</returns>
    /// <exception cref="InvalidOperationException">The manifest has no info-hash.</exception>
    public static InfoHash GetIdentity(IImageManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.InfoHashV1 ?? manifest.InfoHashV2 ?? throw new InvalidOperationException($"The manifest '{manifest.Name}' has no info-hash.");
    }

    /// <summary>Loads a state file and accepts it only when it is intact and belongs to this image and device.</summary>
    /// <param name="path">The state file.</param>
    /// <param name="manifest">The image's manifest.</param>
    /// <param name="device">The target device.</param>
    /// <param name="state">The state, when accepted.</param>
    /// <param name="reason">Why the file was not accepted, for a log line.</param>
    /// <returns><see langword="true"/> when accepted.</returns>
    public static bool TryLoad(string path, IImageManifest manifest, Devices.IBlockDevice device, [NotNullWhen(true)] out ResumeState? state, [NotNullWhen(false)] out string? reason)
    {
        ArgumentNullException.ThrowIfNull(device);
        return TryLoad(path, GetIdentity(manifest), device.Name, device.Length, manifest.PieceCount, out state, out reason);
    }

    /// <summary>
    /// Loads a state file and accepts it only when it is intact (checksum) and belongs to this image, device and piece count.
    /// </summary>
    /// <param name="path">The state file.</param>
    /// <param name="infoHash">The expected info-hash.</param>
    /// <param name="deviceName">The expected device name.</param>
    /// <param name="deviceLength">The expected device length.</param>
    /// <param name="pieceCount">The expected piece count.</param>
    /// <param name="state">The state, when accepted.</param>
    /// <param name="reason">Why the file was not accepted (missing, corrupt, or for something else), for a log line.</param>
    /// <returns><see langword="true"/> when accepted.</returns>
    public static bool TryLoad(string path, InfoHash infoHash, string deviceName, long deviceLength, int pieceCount, [NotNullWhen(true)] out ResumeState? state, [NotNullWhen(false)] out string? reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        state = null;
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                reason = $"'{path}' does not exist";
                return false;
            }

            if (info.Length > MaxFileBytes)
            {
                reason = $"'{path}' is too large to be a resume state";
                return false;
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            reason = $"'{path}' could not be read: {ex.Message}";
            return false;
        }

        if (!TryParse(bytes, out ResumeState? parsed, out string? problem))
        {
            reason = $"'{path}' is not a valid resume state: {problem}";
            return false;
        }

        if (!parsed.Matches(infoHash, deviceName, deviceLength, pieceCount, out string? mismatch))
        {
            reason = $"'{path}' does not belong to this deployment: {mismatch}";
            return false;
        }

        state = parsed;
        reason = null;
        return true;
    }

    private byte[] Serialize()
    {
        byte[] name = Encoding.UTF8.GetBytes(DeviceName);
        if (name.Length > ushort.MaxValue)
        {
            throw new InvalidOperationException("The device name is too long to record.");
        }

        int bitfieldLength = (PieceCount + 7) / 8;
        int length = Magic.Length + 2 + 1 + InfoHash.Span.Length + 2 + name.Length + 8 + 4 + bitfieldLength + SHA256.HashSizeInBytes;
        byte[] bytes = new byte[length];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        int at = Magic.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], Version);
        at += 2;
        span[at++] = (byte)InfoHash.Span.Length;
        InfoHash.Span.CopyTo(span[at..]);
        at += InfoHash.Span.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)name.Length);
        at += 2;
        name.CopyTo(span[at..]);
        at += name.Length;
        BinaryPrimitives.WriteInt64LittleEndian(span[at..], DeviceLength);
        at += 8;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], PieceCount);
        at += 4;
        for (int p = 0; p < PieceCount; p++)
        {
            if (_pieces.Contains(p))
            {
                span[at + (p >> 3)] |= (byte)(0x80 >> (p & 7));
            }
        }

        at += bitfieldLength;
        SHA256.HashData(span[..at], span[at..]);
        return bytes;
    }

    private static bool TryParse(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out ResumeState? state, [NotNullWhen(false)] out string? problem)
    {
        state = null;
        int fixedLength = Magic.Length + 2 + 1;
        if (bytes.Length < fixedLength + SHA256.HashSizeInBytes || !bytes.StartsWith(Magic))
        {
            problem = "it does not start with the resume-state signature";
            return false;
        }

        ReadOnlySpan<byte> body = bytes[..^SHA256.HashSizeInBytes];
        Span<byte> checksum = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body, checksum);
        if (!checksum.SequenceEqual(bytes[^SHA256.HashSizeInBytes..]))
        {
            problem = "its checksum does not match its contents (torn or corrupted)";
            return false;
        }

        int at = Magic.Length;
        int version = BinaryPrimitives.ReadUInt16LittleEndian(body[at..]);
        at += 2;
        if (version != Version)
        {
            problem = string.Create(CultureInfo.InvariantCulture, $"it has format version {version}, not {Version}");
            return false;
        }

        int hashLength = body[at++];
        if (hashLength is not (20 or 32) || body.Length < at + hashLength + 2)
        {
            problem = "its info-hash is malformed";
            return false;
        }

        var infoHash = new InfoHash(body.Slice(at, hashLength));
        at += hashLength;
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(body[at..]);
        at += 2;
        if (nameLength == 0 || body.Length < at + nameLength + 12)
        {
            problem = "its device name is malformed";
            return false;
        }

        string name = Encoding.UTF8.GetString(body.Slice(at, nameLength));
        at += nameLength;
        long deviceLength = BinaryPrimitives.ReadInt64LittleEndian(body[at..]);
        at += 8;
        int pieceCount = BinaryPrimitives.ReadInt32LittleEndian(body[at..]);
        at += 4;
        if (deviceLength < 0 || pieceCount < 0 || body.Length - at != (int)(((long)pieceCount + 7) / 8))
        {
            problem = "its device length, piece count or piece map is malformed";
            return false;
        }

        ReadOnlySpan<byte> bitfield = body[at..];
        if (pieceCount % 8 != 0 && (bitfield[^1] & (0xFF >> (pieceCount % 8))) != 0)
        {
            problem = "its piece map marks pieces past the last one";
            return false;
        }

        var parsed = new ResumeState(infoHash, name, deviceLength, pieceCount);
        for (int p = 0; p < pieceCount; p++)
        {
            if ((bitfield[p >> 3] & (0x80 >> (p & 7))) != 0)
            {
                parsed._pieces.Add(p);
            }
        }

        state = parsed;
        problem = null;
        return true;
    }

    private void CheckPiece(int piece)
    {
        if ((uint)piece >= (uint)PieceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(piece), piece, string.Create(CultureInfo.InvariantCulture, $"The state records pieces 0 to {PieceCount - 1}."));
        }
    }
}
