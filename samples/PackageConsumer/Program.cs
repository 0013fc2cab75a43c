// Deploys an image over loopback from one client to another, using only the BlockTorrent packages, and exits 0
// only when the target is a bit-exact copy of the image.
using System.Net;
using BlockTorrent;
using BlockTorrent.Devices;
using BlockTorrent.Devices.Linux;
using BlockTorrent.Manifest;

DirectoryInfo folder = Directory.CreateTempSubdirectory("blocktorrent-consumer-");
try
{
    string imagePath = Path.Combine(folder.FullName, "golden.img");
    string targetPath = Path.Combine(folder.FullName, "target.img");
    byte[] image = new byte[24 << 20];
    Random.Shared.NextBytes(image.AsSpan(0, 16 << 20));   // the last 8 MiB stay zero: zero pieces are never sent
    await File.WriteAllBytesAsync(imagePath, image);
    using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

    // The ten lines the package README promises: make a manifest, seed from one client, deploy with another.
    TorrentManifest manifest = await ManifestBuilder.CreateAsync(imagePath, cancellationToken: timeout.Token);
    await using var seeder = new BlockTorrentClient(new BlockTorrentClientOptions { ListenEndPoint = new(IPAddress.Loopback, 0) });
    await using var source = FileBlockDevice.Open(imagePath, new FileBlockDeviceOptions { ReadOnly = true });
    using var stopSeeding = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
    Task seeding = seeder.SeedAsync(manifest, source, cancellationToken: stopSeeding.Token);
    await using var deployer = new BlockTorrentClient(new BlockTorrentClientOptions { ListenEndPoint = new(IPAddress.Loopback, 0) });
    var options = new DeployOptions();
    options.Peers.Add(seeder.LocalEndPoint);
    DeploymentResult result;
    await using (IBlockDevice target = OperatingSystem.IsLinux() ? LinuxBlockDevice.CreateImageFile(targetPath, manifest.Length) : FileBlockDevice.Create(targetPath, manifest.Length))
    {
        result = await deployer.DeployAsync(manifest, target, options, cancellationToken: timeout.Token);
    }

    await stopSeeding.CancelAsync();
    try
    {
        await seeding;
    }
    catch (OperationCanceledException) when (stopSeeding.IsCancellationRequested)
    {
        // Seeding runs until cancelled.
    }

    bool bitExact = (await File.ReadAllBytesAsync(targetPath)).AsSpan().SequenceEqual(image);
    Console.WriteLine($"{result.PiecesDownloaded} pieces downloaded, {result.ZeroPieces} zero pieces, {result.BytesDownloaded} bytes in {result.Duration.TotalSeconds:F2} s: {(bitExact ? "bit-exact" : "the target DIFFERS from the image")}");
    return bitExact ? 0 : 1;
}
finally
{
    folder.Delete(recursive: true);
}
