using BlockTorrent.Cli;
using BlockTorrent.Cli.Console;

var console = CliConsole.FromProcess();
using var shutdown = new ShutdownSignal(console.Error);
return await CliApp.RunAsync(args, console, shutdown.Token).ConfigureAwait(false);
