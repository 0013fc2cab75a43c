using System.IO.Compression;
using BlockTorrent.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace BlockTorrent.Devices.Linux.Tests;

public sealed class PartitionTableTests
{
    private const int DiskLength = 16 << 20;

    [Fact]
    public async Task AfterAPartitionedImageIsWrittenTheKernelSeesItsPartitionTable()
    {
        LoopDevice.Require();
        string sfdisk = Requires.Program("sfdisk", "fdisk");
        string addpart = Requires.Program("addpart", "util-linux");
        using var temp = new TempDirectory();

        // The image: an MBR with two partitions, at 1 MiB (4 MiB long) and at 5 MiB (to the end).
        string image = temp.File("partitioned.img");
        await using (var stream = new FileStream(image, FileMode.Create, FileAccess.Write))
        {
            stream.SetLength(DiskLength);
        }

        await LoopDevice.RunAsync("sh", "-c", $"printf 'label: dos\\n2048,8192,L\\n10240,,L\\n' | {sfdisk} --quiet '{image}'");

        // The target already has a stale partition 3 that the image does not have.
        await using var loop = await LoopDevice.CreateAsync(temp, DiskLength, partitionScan: true);
        await LoopDevice.RunAsync(addpart, loop.Path, "3", "20480", "2048");
        await Eventually.TrueAsync(() => Directory.Exists(PartitionDirectory(loop, 3)), TimeSpan.FromSeconds(10), "the stale partition to appear", TestContext.Current.CancellationToken);

        await using (var device = LinuxBlockDevice.Open(loop.Path))
        {
            await device.WriteAsync(0, await File.ReadAllBytesAsync(image, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        }

        // Disposing flushed and issued BLKRRPART: the stale partition is gone, and where the kernel can parse MBR
        // tables, the image's partitions are there at the image's offsets.
        Assert.False(Directory.Exists(PartitionDirectory(loop, 3)), "BLKRRPART did not run: the stale partition is still there");
        if (KernelParsesMbr())
        {
            Assert.Equal("2048", File.ReadAllText(Path.Combine(PartitionDirectory(loop, 1), "start")).Trim());
            Assert.Equal("10240", File.ReadAllText(Path.Combine(PartitionDirectory(loop, 2), "start")).Trim());
            Assert.True(File.Exists(loop.Path + "p1"), "the partition node did not appear");
        }
        else
        {
            Assert.False(Directory.Exists(PartitionDirectory(loop, 1)));
        }
    }

    [Fact]
    public async Task APartitionHasNoPartitionTableToReread()
    {
        using var temp = new TempDirectory();
        await using var loop = await WithOnePartitionAsync(temp);

        await using var partition = LinuxBlockDevice.Open(loop.Path + "p1");

        Assert.Equal(1 << 20, partition.Length);
        Assert.Throws<InvalidOperationException>(partition.RereadPartitionTable);
    }

    [Fact]
    public async Task ADiskWithoutAPartitionTableOnADeviceWithoutPartitionsLogsTheRefusedRereadOnlyAtDebug()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, DiskLength);
        var logger = new FakeLogger();

        await using (var device = LinuxBlockDevice.Open(loop.Path, logger: logger))
        {
            await device.WriteAsync(0, Filled(1 << 20, 0xAB), TestContext.Current.CancellationToken);
        }

        // A loop device attached without --partscan refuses BLKRRPART with EINVAL: a disk without partitions, nothing to say.
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 7106 && r.Level == LogLevel.Debug);
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task APartitionedImageOnADeviceWithoutPartitionsWarnsThatItsPartitionsWillNotAppear()
    {
        LoopDevice.Require();
        string sfdisk = Requires.Program("sfdisk", "fdisk");
        using var temp = new TempDirectory();
        byte[] image = await PartitionedImageAsync(temp, sfdisk, "dos");
        await using var loop = await LoopDevice.CreateAsync(temp, DiskLength);
        var logger = new FakeLogger();

        await using (var device = LinuxBlockDevice.Open(loop.Path, logger: logger))
        {
            await device.WriteAsync(0, image, TestContext.Current.CancellationToken);
        }

        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Level >= LogLevel.Warning);
        Assert.Equal(7107, warning.Id.Id);
        Assert.Contains("--partscan", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARereadRefusedBecauseAPartitionIsOpenStaysAWarning()
    {
        using var temp = new TempDirectory();
        await using var loop = await WithOnePartitionAsync(temp);
        var logger = new FakeLogger();

        // Someone holds the partition open: the kernel cannot drop it, so the new table is not read (EBUSY).
        await using (var held = new FileStream(loop.Path + "p1", FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            await using var device = LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { Force = true }, logger);
            await device.WriteAsync(0, Filled(1 << 20, 0xAB), TestContext.Current.CancellationToken);
        }

        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Level >= LogLevel.Warning && r.Id.Id != 7102);
        Assert.Equal((7104, LogLevel.Warning), (warning.Id.Id, warning.Level));
        Assert.Contains("EBUSY", warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dos")]
    [InlineData("gpt")]
    public async Task AnMbrOrAGptIsAPartitionTable(string label)
    {
        string sfdisk = Requires.Program("sfdisk", "fdisk");
        using var temp = new TempDirectory();
        byte[] image = await PartitionedImageAsync(temp, sfdisk, label);

        Assert.True(PartitionTableProbe.HoldsPartitionTable(image.AsSpan(0, PartitionTableProbe.BytesNeeded(512)), 512));
    }

    [Fact]
    public void AGptHeaderWithoutItsProtectiveMbrIsStillAPartitionTable()
    {
        byte[] start = new byte[PartitionTableProbe.BytesNeeded(4096)];
        "EFI PART"u8.CopyTo(start.AsSpan(4096));

        Assert.True(PartitionTableProbe.HoldsPartitionTable(start, 4096));
        Assert.False(PartitionTableProbe.HoldsPartitionTable(start, 512), "with 512-byte sectors the header would be at 512");
    }

    [Fact]
    public void ABootSignatureOverBootCodeOrOverEmptyEntriesIsNoPartitionTable()
    {
        // A file system's boot sector: the 0x55AA signature, with boot code where an MBR's entries would be.
        byte[] bootSector = Filled(1024, 0xAB);
        bootSector[510] = 0x55;
        bootSector[511] = 0xAA;
        Assert.False(PartitionTableProbe.HoldsPartitionTable(bootSector, 512));

        // The signature over four unused entries.
        byte[] empty = new byte[1024];
        empty[510] = 0x55;
        empty[511] = 0xAA;
        Assert.False(PartitionTableProbe.HoldsPartitionTable(empty, 512));

        Assert.False(PartitionTableProbe.HoldsPartitionTable(new byte[1024], 512));
        Assert.False(PartitionTableProbe.HoldsPartitionTable(new byte[100], 512), "a disk shorter than a sector holds none");
    }

    // A loop device that scans partitions, with partition 1 (1 MiB at sector 2048) added and its node there.
    private static async Task<LoopDevice> WithOnePartitionAsync(TempDirectory temp)
    {
        LoopDevice.Require();
        string addpart = Requires.Program("addpart", "util-linux");
        var loop = await LoopDevice.CreateAsync(temp, DiskLength, partitionScan: true);
        try
        {
            await LoopDevice.RunAsync(addpart, loop.Path, "1", "2048", "2048");
            await Eventually.TrueAsync(() => File.Exists(loop.Path + "p1"), TimeSpan.FromSeconds(10), "the partition node to appear", TestContext.Current.CancellationToken);
            return loop;
        }
        catch
        {
            await loop.DisposeAsync();
            throw;
        }
    }

    private static async Task<byte[]> PartitionedImageAsync(TempDirectory temp, string sfdisk, string label)
    {
        string image = temp.File($"partitioned-{label}.img");
        await using (var stream = new FileStream(image, FileMode.Create, FileAccess.Write))
        {
            stream.SetLength(DiskLength);
        }

        await LoopDevice.RunAsync("sh", "-c", $"printf 'label: {label}\\n2048,8192,L\\n10240,,L\\n' | {sfdisk} --quiet '{image}'");
        return await File.ReadAllBytesAsync(image, TestContext.Current.CancellationToken);
    }

    private static byte[] Filled(int length, byte value)
    {
        byte[] data = new byte[length];
        data.AsSpan().Fill(value);
        return data;
    }

    private static string PartitionDirectory(LoopDevice loop, int number) => $"/sys/block/{loop.Name}/{loop.Name}p{number}";

    // Minimal kernels (like some CI VMs) build no partition table parsers at all; then no partition can appear.
    private static bool KernelParsesMbr()
    {
        string? config = null;
        if (File.Exists("/proc/config.gz"))
        {
            using var gzip = new GZipStream(File.OpenRead("/proc/config.gz"), CompressionMode.Decompress);
            using var reader = new StreamReader(gzip);
            config = reader.ReadToEnd();
        }
        else if (File.Exists("/boot/config-" + File.ReadAllText("/proc/sys/kernel/osrelease").Trim()))
        {
            config = File.ReadAllText("/boot/config-" + File.ReadAllText("/proc/sys/kernel/osrelease").Trim());
        }

        return config is null || config.Contains("CONFIG_MSDOS_PARTITION=y", StringComparison.Ordinal);
    }
}
