using System.IO.Compression;
using BlockTorrent.Testing;

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
        LoopDevice.Require();
        string addpart = Requires.Program("addpart", "util-linux");
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, DiskLength, partitionScan: true);
        await LoopDevice.RunAsync(addpart, loop.Path, "1", "2048", "2048");
        await Eventually.TrueAsync(() => File.Exists(loop.Path + "p1"), TimeSpan.FromSeconds(10), "the partition node to appear", TestContext.Current.CancellationToken);

        await using var partition = LinuxBlockDevice.Open(loop.Path + "p1");

        Assert.Equal(1 << 20, partition.Length);
        Assert.Throws<InvalidOperationException>(partition.RereadPartitionTable);
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
