namespace BlockTorrent.Cli.Progress;

/// <summary>
/// Shows a long-running command to whoever watches it: a live bar on a terminal, plain periodic lines in a log, or
/// JSON events for a program. Every command reports through one of these, so the three stay consistent.
/// </summary>
internal interface IProgressView
{
    /// <summary>Shows the latest state; called on a timer, so a view may skip updates it considers too frequent.</summary>
    /// <param name="snapshot">The state.</param>
    void Update(TransferSnapshot snapshot);

    /// <summary>Shows a notable event as its own line (a peer joined, resuming from a previous run…).</summary>
    /// <param name="kind">A short machine-readable kind, for example <c>resume</c>.</param>
    /// <param name="text">The text for a human.</param>
    void Event(string kind, string text);

    /// <summary>Shows the final state and ends any live display.</summary>
    /// <param name="snapshot">The final state.</param>
    /// <param name="summary">A one-line human summary.</param>
    void Complete(TransferSnapshot snapshot, string summary);
}
