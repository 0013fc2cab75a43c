namespace BlockTorrent.Cli;

/// <summary>
/// The exit codes of <c>blocktorrent</c>. Scripts depend on them: a code never changes meaning.
/// </summary>
/// <remarks>
/// They follow the shell's conventions: 0 is success, 2 is a usage error (as getopt tools use), and 130 is
/// 128 + SIGINT for a run stopped by Ctrl-C. The codes in between say which kind of failure stopped the run, so a
/// script can tell "fix the command line" from "fix the target" from "try again".
/// </remarks>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked; for <c>deploy</c>, the target is verified complete.</summary>
    public const int Success = 0;

    /// <summary>An unexpected error (an I/O failure, a bug); the message says what, <c>--verbose</c> shows where.</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: an unknown option, a missing argument, a value that does not parse.</summary>
    public const int Usage = 2;

    /// <summary>An input is missing or unusable: no such file, not a valid .torrent, a bad magnet link.</summary>
    public const int InvalidInput = 3;

    /// <summary>The target was refused before anything was written: too small, mounted, read-only, busy, in use.</summary>
    public const int TargetRefused = 4;

    /// <summary>The target does not match the manifest: some pieces differ (<c>verify</c>, or <c>deploy --verify</c>).</summary>
    public const int VerifyFailed = 5;

    /// <summary>The deployment stopped before the target was complete (no peers, a timeout); run it again to resume.</summary>
    public const int Incomplete = 6;

    /// <summary>
    /// <c>deploy</c> stopped because no peer it can use has the pieces still missing (a seed whose image changed after
    /// its manifest was made, or whose peers were banned for bad pieces), after <c>--stall-timeout</c> with nothing
    /// arriving; the message names the pieces and the banned peers. Fix or replace the source, then run again to resume.
    /// </summary>
    public const int PiecesUnavailable = 7;

    /// <summary>
    /// The manifest was refused before anything was touched: <c>--trust</c> was given and it is unsigned, signed by
    /// another key, or its signature does not verify; or it is not the image <c>--btih</c> pins; or the https server
    /// it was fetched from presented a certificate that is not trusted (<c>--server-cert</c>, <c>--server-fingerprint</c>).
    /// </summary>
    public const int ManifestRefused = 8;

    /// <summary>Stopped by Ctrl-C or SIGTERM; whatever was written stays verified, and a second run resumes.</summary>
    public const int Interrupted = 130;

    /// <summary>Gets the documentation of every code, in order, as shown by <c>blocktorrent --help</c> and the README.</summary>
    public static IReadOnlyList<(int Code, string Meaning)> All { get; } =
    [
        (Success, "success (deploy: the target is verified complete)"),
        (Failure, "unexpected error (I/O failure); --verbose shows details"),
        (Usage, "bad command line: unknown option, missing argument, unparsable value"),
        (InvalidInput, "missing file, invalid .torrent or magnet link"),
        (TargetRefused, "target refused: too small, mounted, read-only, busy or holds the running system"),
        (VerifyFailed, "the target differs from the manifest"),
        (Incomplete, "stopped before the target was complete; run again to resume"),
        (PiecesUnavailable, "no peer has the pieces still missing (a changed source, banned peers); fix the source, run again"),
        (ManifestRefused, "manifest refused: unsigned or not signed by a --trust key, not the --btih image, or from an https server whose certificate is not trusted; nothing was written"),
        (Interrupted, "interrupted by Ctrl-C/SIGTERM; run again to resume"),
    ];
}
