namespace BlockTorrent.Bencode;

/// <summary>
/// What a <see cref="BencodeReader"/> accepts: limits, so hostile input cannot exhaust the stack or memory, and how
/// strict it is about form.
/// </summary>
internal readonly record struct BencodeReaderOptions
{
    /// <summary>The default maximum nesting depth.</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>The default maximum input size: 128 MiB (piece layers of a multi-TiB image fit).</summary>
    public const int DefaultMaxSize = 128 * 1024 * 1024;

    /// <summary>Initializes a new instance with the defaults.</summary>
    public BencodeReaderOptions()
    {
    }

    /// <summary>Gets the defaults: strict and canonical, for .torrent files and tracker responses.</summary>
    public static BencodeReaderOptions Default { get; } = new();

    /// <summary>
    /// Gets what peers' extension messages (BEP 9, 10, 11) are read with: any well-formed bencode (keys in any order
    /// or repeated, leading zeros), data after the value left for the caller, nesting up to 16 levels (extension
    /// dictionaries are flat or two levels deep; anything deeper is hostile).
    /// </summary>
    public static BencodeReaderOptions Lenient { get; } = new() { RequireCanonical = false, AllowTrailingData = true, MaxDepth = 16 };

    /// <summary>Gets the deepest nesting of lists and dictionaries accepted. The default is 64.</summary>
    public int MaxDepth { get; init; } = DefaultMaxDepth;

    /// <summary>Gets the largest input accepted, in bytes. The default is 128 MiB.</summary>
    public int MaxSize { get; init; } = DefaultMaxSize;

    /// <summary>Gets the longest byte string accepted, in bytes. The default is 128 MiB.</summary>
    public int MaxStringLength { get; init; } = DefaultMaxSize;

    /// <summary>
    /// Gets a value indicating whether only the canonical form is accepted: dictionary keys in strictly ascending
    /// byte order, no leading zeros, no <c>-0</c>. The default is <see langword="true"/>.
    /// </summary>
    public bool RequireCanonical { get; init; } = true;

    /// <summary>
    /// Gets a value indicating whether bytes may follow the value: reading stops after it, and
    /// <see cref="BencodeReader.BytesConsumed"/> is where they start. The default is <see langword="false"/>.
    /// </summary>
    public bool AllowTrailingData { get; init; }
}
