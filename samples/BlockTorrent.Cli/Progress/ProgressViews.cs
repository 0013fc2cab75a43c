using BlockTorrent.Cli.Console;

namespace BlockTorrent.Cli.Progress;

/// <summary>Picks how a command shows progress: JSON events when asked, a live bar on a terminal, plain lines otherwise.</summary>
internal static class ProgressViews
{
    /// <summary>How often plain lines are printed when the output is not a terminal.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    /// <summary>How often JSON progress events are printed.</summary>
    public static readonly TimeSpan JsonInterval = TimeSpan.FromSeconds(1);

    public static IProgressView Create(CliConsole console, string label, bool json) =>
        json ? new JsonProgressView(console.Out, label, JsonInterval)
        : console.IsTerminal ? new TerminalProgressView(console.Out, () => console.Width, label)
        : new PlainProgressView(console.Out, label, PlainInterval);
}
