using System.Globalization;
using System.Runtime.Versioning;
using System.Security.Principal;
using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Windows.Tests;

/// <summary>
/// A VHDX created and attached with diskpart for one test, so the device is exercised on a real Windows disk that
/// nobody needs. Detached and deleted on dispose.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class AttachedVhd : IAsyncDisposable
{
    private static readonly TimeSpan DiskpartTimeout = TimeSpan.FromMinutes(2);
    private readonly TempDirectory _directory;
    private readonly string _file;

    private AttachedVhd(TempDirectory directory, string file, WindowsDisk disk)
    {
        _directory = directory;
        _file = file;
        Disk = disk;
    }

    /// <summary>Gets the attached disk as enumerated right after it appeared.</summary>
    internal WindowsDisk Disk { get; }

    /// <summary>Skips the test unless it runs on Windows in an elevated process (attaching a VHD and opening physical disks need both).</summary>
    internal static void RequireElevatedWindows()
    {
        if (!OperatingSystem.IsWindows())
        {
            Assert.Skip(@"Windows only: opens \\.\PhysicalDriveN through kernel32 and attaches a VHD with diskpart. Run this test project on Windows, elevated.");
        }

        using WindowsIdentity identity = WindowsIdentity.GetCurrent();
        if (!new WindowsPrincipal(identity).IsInRole(WindowsBuiltInRole.Administrator))
        {
            Assert.Skip("Needs an elevated (Administrator) process: attaching a VHD and opening physical disks require it.");
        }
    }

    /// <summary>Creates and attaches a VHDX of <paramref name="megabytes"/> MiB, optionally with one NTFS volume that gets a drive letter.</summary>
    internal static async Task<AttachedVhd> CreateAsync(int megabytes, bool withVolume, CancellationToken cancellationToken)
    {
        var directory = new TempDirectory();
        string file = directory.File("blocktorrent-target.vhdx");
        IReadOnlyList<WindowsDisk> before = await WindowsDisks.GetDisksAsync(cancellationToken);
        string script = string.Create(CultureInfo.InvariantCulture, $"""
            create vdisk file="{file}" maximum={megabytes} type=expandable
            select vdisk file="{file}"
            attach vdisk
            online disk noerr
            attributes disk clear readonly noerr
            """);
        if (withVolume)
        {
            script += "\nconvert gpt\ncreate partition primary\nformat fs=ntfs quick label=BTTEST\nassign\n";
        }

        await RunDiskpartAsync(directory, script, cancellationToken);
        IReadOnlyList<WindowsDisk> after = await WindowsDisks.GetDisksAsync(cancellationToken);
        WindowsDisk disk = Assert.Single(after, d => d.BusType == WindowsBusType.FileBackedVirtual && before.All(b => b.Number != d.Number));
        return new AttachedVhd(directory, file, disk);
    }

    /// <summary>Enumerates the attached disk again (its volumes change when it is written).</summary>
    internal async Task<WindowsDisk> DescribeAsync(CancellationToken cancellationToken) =>
        Assert.Single(await WindowsDisks.GetDisksAsync(cancellationToken), d => d.Number == Disk.Number);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await RunDiskpartAsync(_directory, $"select vdisk file=\"{_file}\"\ndetach vdisk\n", CancellationToken.None);
        _directory.Dispose();
    }

    private static async Task RunDiskpartAsync(TempDirectory directory, string script, CancellationToken cancellationToken)
    {
        string scriptFile = directory.File($"diskpart-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(scriptFile, script, cancellationToken);
        ProgramResult result = await ExternalProgram.RunAsync("diskpart.exe", ["/s", scriptFile], DiskpartTimeout, cancellationToken: cancellationToken);
        result.EnsureSuccess("diskpart " + script.Replace('\n', ';'));
    }
}
