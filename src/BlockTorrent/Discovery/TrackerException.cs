namespace BlockTorrent.Discovery;

/// <summary>
/// A tracker refused a request (its <c>failure reason</c> or UDP error message), answered something that is not
/// a valid response, or could not be reached.
/// </summary>
internal sealed class TrackerException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public TrackerException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong, naming the tracker.</param>
    public TrackerException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the cause.</summary>
    /// <param name="message">What went wrong, naming the tracker.</param>
    /// <param name="innerException">The cause.</param>
    public TrackerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets a value indicating whether the tracker itself refused (as opposed to a transport or format error).</summary>
    public bool IsFailureReason { get; init; }
}
