using System.Diagnostics.Metrics;

namespace BlockTorrent.Diagnostics;

/// <summary>
/// The library's one <see cref="Meter"/> ("BlockTorrent") and the instruments shared across areas. Instruments are
/// created once here so every area reports under the same names; add new instruments here rather than creating meters.
/// </summary>
/// <remarks>Names follow OpenTelemetry conventions: <c>blocktorrent.&lt;noun&gt;.&lt;verb&gt;</c>, units in UCUM.</remarks>
internal static class BlockTorrentMetrics
{
    /// <summary>The meter name, for listeners (<c>MeterListener</c>, OpenTelemetry <c>AddMeter</c>).</summary>
    public const string MeterName = "BlockTorrent";

    /// <summary>Gets the library's meter.</summary>
    public static Meter Meter { get; } = new(MeterName, typeof(BlockTorrentMetrics).Assembly.GetName().Version?.ToString());

    /// <summary>Bytes of verified piece data written to target devices, duplicates included.</summary>
    public static Counter<long> BytesWritten { get; } = Meter.CreateCounter<long>("blocktorrent.bytes.written", "By", "Bytes of verified piece data written to target devices, duplicate copies included.");

    /// <summary>Bytes made to read as zeros without sending data (zero ranges, discards, known-zero skips).</summary>
    public static Counter<long> BytesZeroed { get; } = Meter.CreateCounter<long>("blocktorrent.bytes.zeroed", "By", "Bytes of all-zero pieces satisfied without transferring them.");

    /// <summary>Pieces whose bytes matched the manifest's hash.</summary>
    public static Counter<long> PiecesVerified { get; } = Meter.CreateCounter<long>("blocktorrent.pieces.verified", "{piece}", "Pieces whose bytes matched the manifest's hash.");

    /// <summary>Pieces whose bytes did not match the manifest's hash and were rejected.</summary>
    public static Counter<long> PiecesFailed { get; } = Meter.CreateCounter<long>("blocktorrent.pieces.failed", "{piece}", "Pieces rejected because their bytes did not match the manifest's hash.");

    /// <summary>Piece positions written on target devices (a piece and each of its duplicates count once each).</summary>
    public static Counter<long> PiecesWritten { get; } = Meter.CreateCounter<long>("blocktorrent.pieces.written", "{piece}", "Piece positions written on target devices, duplicates included.");

    /// <summary>Write calls issued to devices (one per coalesced run).</summary>
    public static Counter<long> DeviceWrites { get; } = Meter.CreateCounter<long>("blocktorrent.device.writes", "{write}", "Write calls issued to target devices; each covers one coalesced run of pieces.");

    /// <summary>Device calls that failed.</summary>
    public static Counter<long> DeviceErrors { get; } = Meter.CreateCounter<long>("blocktorrent.device.errors", "{error}", "Device calls that failed.");

    /// <summary>Pieces read back from a device and checked against the manifest (recheck, resume, delta re-imaging, read-back).</summary>
    public static Counter<long> PiecesChecked { get; } = Meter.CreateCounter<long>("blocktorrent.pieces.checked", "{piece}", "Pieces read back from a device and checked against the manifest.");

    /// <summary>
    /// Aligned memory the piece writers hold for pieces between the network and the device: allocated on demand up to
    /// each writer's in-flight budget, kept for reuse, and freed when the writer is disposed.
    /// </summary>
    public static UpDownCounter<long> PieceBufferBytes { get; } = Meter.CreateUpDownCounter<long>("blocktorrent.memory.piece_buffers", "By", "Aligned memory the piece writers hold for pieces in flight, allocated on demand up to each writer's in-flight budget.");
}
