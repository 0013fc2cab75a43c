using System.Globalization;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>The depot and the target services the fleet tests deploy with, on loopback.</summary>
internal static class FleetServices
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    /// <summary>Starts a depot serving <paramref name="image"/> as disk.img (64 KiB pieces), with <paramref name="more"/> settings, and waits until it seeds it.</summary>
    public static async Task<ServiceInstance> StartDepotAsync(TempDirectory dir, TestImage image, Dictionary<string, string?>? more = null)
    {
        string images = Directory.CreateDirectory(dir.File("images")).FullName;
        await image.WriteFileAsync(Path.Combine(images, "disk.img"), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:PieceSize"] = (64 * 1024).ToString(CultureInfo.InvariantCulture);
        foreach ((string key, string? value) in more ?? [])
        {
            settings[key] = value;
        }

        ServiceInstance depot = await ServiceInstance.StartAsync(dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", TestContext.Current.CancellationToken);
        return depot;
    }

    /// <summary>Starts a target service that deploys the depot's disk.img to the file <paramref name="device"/>, reports to the depot, and stops once done.</summary>
    public static Task<ServiceInstance> StartTargetAsync(TempDirectory dir, ServiceInstance depot, string device, Dictionary<string, string?>? more = null)
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = $"{depot.ManifestsUrl}/images/disk.img.torrent";
        settings["BlockTorrent:Target:Device"] = dir.File(device);
        settings["BlockTorrent:StateDirectory"] = dir.File("state");
        settings["BlockTorrent:Target:SeedAfter"] = "00:00:00";
        settings["BlockTorrent:Target:StopWhenDone"] = "true";
        foreach ((string key, string? value) in more ?? [])
        {
            settings[key] = value;
        }

        return ServiceInstance.StartAsync(dir.Path, settings);
    }
}
