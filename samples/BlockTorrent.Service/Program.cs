using BlockTorrent.Service;
using BlockTorrent.Service.Status;
using Microsoft.Extensions.Options;

// The imaging service: a depot that seeds the images in a folder, or a target that deploys one image to a device.
// Settings: appsettings.json beside the program, environment variables (BlockTorrent__Role=Target), or the command
// line (--BlockTorrent:Role=Target). Exit codes: 0 stopped (or done), 1 failed, 2 invalid settings.
try
{
    await using WebApplication app = ImagingServiceHost.Build(args);

    // RunAsync disposes the host's services when the host stops: the board that holds the exit code is taken before.
    StatusBoard board = app.Services.GetRequiredService<StatusBoard>();
    await app.RunAsync();
    return board.ExitCode;
}
catch (OptionsValidationException e)
{
    Console.Error.WriteLine("blocktorrent-service: invalid settings:");
    foreach (string failure in e.Failures)
    {
        Console.Error.WriteLine("  " + failure);
    }

    return 2;
}
catch (IOException e)
{
    // Kestrel reports an address in use this way.
    Console.Error.WriteLine($"blocktorrent-service: {e.Message}");
    return 1;
}
