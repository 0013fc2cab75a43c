namespace BlockTorrent.Bencode;

/// <summary>Limits a <see cref="BencodeReader"/> enforces, so hostile input cannot exhaust the stack or memory.</summary>
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

    /// <summary>Gets the default limits.</summary>
    public static BencodeReaderOptions Default { get; } = new();

    /// <summary>Gets the deepest nesting of lists and dictionaries accepted. The default is 64.</summary>
    public int MaxDepth { get; init; } = DefaultMaxDepth;

    /// <summary>Gets the largest input accepted, in bytes. The default is 128 MiB.</summary>
    public int MaxSize { get; init; } = DefaultMaxSize;

    /// <summary>Gets the longest byte string accepted, in bytes. The default is 128 MiB.</summary>
    public int MaxStringLength { get; init; } = DefaultMaxSize;
}
