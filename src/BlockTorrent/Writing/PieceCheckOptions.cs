namespace BlockTorrent.Writing;

/// <summary>Which pieces <see cref="PieceChecker"/> reads back and checks, and how.</summary>
public sealed class PieceCheckOptions
{
    /// <summary>Gets the default options: every piece, one reader per processor.</summary>
    public static PieceCheckOptions Default { get; } = new();

    /// <summary>Gets or sets the pieces to check.</summary>
    /// <value>The default is <see langword="null"/>: every piece of the image.</value>
    public IReadOnlyList<int>? Pieces { get; set; }

    /// <summary>
    /// Gets or sets how many pieces are read and hashed at once. On a spinning disk 1 is faster: parallel readers make it seek.
    /// </summary>
    /// <value>The default is 0, meaning <see cref="Environment.ProcessorCount"/>. It must not be negative.</value>
    public int Parallelism { get; set; }

    /// <summary>Gets or sets where the number of pieces checked so far is reported, after each piece.</summary>
    /// <value>The default is <see langword="null"/>: no progress.</value>
    public IProgress<int>? Progress { get; set; }

    internal int EffectiveParallelism => Parallelism == 0 ? Environment.ProcessorCount : Parallelism;

    internal void Validate()
    {
        if (Parallelism < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Parallelism), Parallelism, "The parallelism must not be negative (0 means one reader per processor).");
        }
    }
}
