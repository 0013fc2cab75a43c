using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Clients;

/// <summary>
/// The <c>blocktorrent</c> command (samples/BlockTorrent.Cli, built beside the tests) run as its own process, so a
/// whole BlockTorrent client, every socket included, can live inside a network namespace (<c>ip netns exec</c>).
/// </summary>
internal static class BlockTorrentCli
{
    public static string Assembly => Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Cli.dll");

    /// <summary>Starts <c>blocktorrent ARGS…</c> in the test's own network namespace; the caller disposes (kills) it.</summary>
    public static RunningProgram Start(params string[] arguments)
    {
        string dotnet = Requires.Program("dotnet", "dotnet-sdk-10.0");
        return new RunningProgram(dotnet, [Assembly, .. arguments]);
    }

    /// <summary>Starts <c>blocktorrent ARGS…</c> inside <paramref name="ns"/>; the caller disposes (kills) it.</summary>
    public static RunningProgram Start(NetworkNamespace ns, params string[] arguments)
    {
        string dotnet = Requires.Program("dotnet", "dotnet-sdk-10.0");
        return new RunningProgram(ns.Start(dotnet, [Assembly, .. arguments]));
    }
}
