namespace BlockTorrent.Writing;

/// <summary>How a <see cref="PieceWriter"/> buffers, verifies and writes pieces.</summary>
public sealed class PieceWriterOptions
{
    /// <summary>Gets the default options.</summary>
    public static PieceWriterOptions Default { get; } = new();

    /// <summary>
    /// Gets or sets the most memory, in bytes, held by pieces between <see cref="PieceWriter.RentAsync"/> and the end of
    /// their write. <see cref="PieceWriter.RentAsync"/> waits while the budget is spent. A budget smaller than one
    /// piece still admits one piece at a time.
    /// </summary>
    /// <value>The default is 64 MiB. It must be at least 64 KiB.</value>
    public long MaxInFlightBytes { get; set; } = 64L << 20;

    /// <summary>Gets or sets how many pieces are hashed at once.</summary>
    /// <value>The default is 0, meaning <see cref="Environment.ProcessorCount"/>. It must not be negative.</value>
    public int VerificationWorkers { get; set; }

    /// <summary>Gets or sets the largest single write, in bytes, that adjacent verified pieces are coalesced into.</summary>
    /// <value>The default is 32 MiB. It must be at least 64 KiB; a single piece larger than it is still written whole.</value>
    public int MaxWriteBytes { get; set; } = 32 << 20;

    /// <summary>
    /// Gets or sets how many bytes the writer writes between the flushes it starts in the background while it
    /// writes. Each flush makes the pieces written before it durable (see <see cref="PieceWriter.IsFlushed"/>) and lets
    /// the device write its cache back while later pieces are verified and written, so the final flush in
    /// <see cref="PieceWriter.CompleteAsync"/> has only the tail left. At most one runs at a time; a failed one fails
    /// every later flush and the completion.
    /// </summary>
    /// <value>The default is 64 MiB. 0 turns it off (the device is flushed only when asked and at the end).</value>
    public long FlushIntervalBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Gets or sets a value indicating whether <see cref="PieceWriter.CompleteAsync"/> reads every piece back after
    /// the final flush and checks it against the manifest (catches devices that lose or corrupt writes).
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool VerifyAfterWrite { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the caller guarantees that the target reads as zeros wherever the writer
    /// has not written (a freshly created file, a disk just discarded with zeroing). All-zero pieces are then satisfied
    /// without touching the device. A device whose
    /// <see cref="Devices.IBlockDevice.IsKnownZeroed"/> is true is treated so without this option.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool DeviceIsZeroed { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a piece of a hybrid (v1 + v2) torrent is checked against its SHA-1 as
    /// well as its SHA-256 merkle root, in one pass over its bytes.
    /// </summary>
    /// <value>
    /// The default is <see langword="false"/>: pieces of v2 and hybrid torrents are checked by their merkle root alone
    /// (v1 torrents by their SHA-1). In a consistent hybrid torrent both halves hash the same bytes, so the merkle root,
    /// the stronger hash, proves the SHA-1 too, for half the hashing. Set it for torrents from a creator you do not trust
    /// to keep the halves consistent: bytes that match one half but not the other then fail their commit with an
    /// <see cref="Manifest.InvalidTorrentException"/> naming the piece (the torrent is at fault, not the peer), and
    /// nothing is written. Rechecks and read-back verification follow the same rule.
    /// </value>
    public bool VerifyAllHashes { get; set; }

    internal int EffectiveVerificationWorkers => VerificationWorkers == 0 ? Environment.ProcessorCount : VerificationWorkers;

    internal void Validate()
    {
        if (MaxInFlightBytes < 64 << 10)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxInFlightBytes), MaxInFlightBytes, "The in-flight budget must be at least 64 KiB.");
        }

        if (VerificationWorkers < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(VerificationWorkers), VerificationWorkers, "The number of verification workers must not be negative (0 means one per processor).");
        }

        if (FlushIntervalBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(FlushIntervalBytes), FlushIntervalBytes, "The flush interval must not be negative (0 turns flushing behind off).");
        }

        if (MaxWriteBytes < 64 << 10)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxWriteBytes), MaxWriteBytes, "The largest coalesced write must be at least 64 KiB.");
        }
    }
}
