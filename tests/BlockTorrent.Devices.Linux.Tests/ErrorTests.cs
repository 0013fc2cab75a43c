using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Linux.Tests;

public sealed class ErrorTests
{
    [Fact]
    public async Task AFullBackingStoreSurfacesAsANoSpaceErrorNamingDeviceOffsetAndCall()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        string small = temp.File("small");
        Directory.CreateDirectory(small);
        await LoopDevice.RunAsync("mount", "-t", "tmpfs", "-o", "size=1m", "blocktorrent-enospc", small);
        try
        {
            string backing = Path.Combine(small, "backing.img");
            await using (var stream = new FileStream(backing, FileMode.Create, FileAccess.Write))
            {
                stream.SetLength(8 << 20);
            }

            await using var loop = await LoopDevice.AttachAsync(backing);
            await using var device = LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { RereadPartitionTableOnDispose = false });

            var error = await Assert.ThrowsAsync<BlockDeviceIOException>(async () =>
            {
                for (long offset = 0; offset < 8 << 20; offset += 1 << 20)
                {
                    await device.WriteAsync(offset, ZeroAndDiscardTests.Filled(1 << 20, 7), TestContext.Current.CancellationToken);
                }
            });

            Assert.Equal(BlockDeviceErrorKind.NoSpace, error.ErrorKind);
            Assert.Equal(28, error.NativeErrorCode);
            Assert.Equal(loop.Path, error.DeviceName);
            Assert.Equal("pwrite", error.Operation);
            Assert.NotNull(error.Offset);
            Assert.Contains(loop.Path, error.Message, StringComparison.Ordinal);
            Assert.Contains("ENOSPC", error.Message, StringComparison.Ordinal);
            Assert.Contains("offset " + error.Offset, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await ExternalProgram.RunAsync("umount", ["-l", small], TimeSpan.FromSeconds(30), cancellationToken: TestContext.Current.CancellationToken);
        }
    }

    [Theory]
    [InlineData(5, BlockDeviceErrorKind.MediaError, "EIO")]
    [InlineData(28, BlockDeviceErrorKind.NoSpace, "ENOSPC")]
    [InlineData(30, BlockDeviceErrorKind.ReadOnly, "EROFS")]
    [InlineData(16, BlockDeviceErrorKind.Busy, "EBUSY")]
    [InlineData(13, BlockDeviceErrorKind.AccessDenied, "EACCES")]
    [InlineData(2, BlockDeviceErrorKind.NotFound, "ENOENT")]
    [InlineData(6, BlockDeviceErrorKind.NotFound, "ENXIO")]
    [InlineData(19, BlockDeviceErrorKind.NotFound, "ENODEV")]
    [InlineData(1, BlockDeviceErrorKind.AccessDenied, "EPERM")]
    [InlineData(71, BlockDeviceErrorKind.Other, "errno 71")]
    public void ErrnoValuesBecomeTypedErrorsNamingTheDeviceOffsetAndCall(int errno, BlockDeviceErrorKind kind, string name)
    {
        var error = DeviceErrors.Create("/dev/sdz", "pwrite", 4096, errno);

        Assert.Equal(kind, error.ErrorKind);
        Assert.Equal(errno, error.NativeErrorCode);
        Assert.Equal(4096, error.Offset);
        Assert.Equal("pwrite on '/dev/sdz' at offset 4096 failed: " + System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno) + $" ({name}) (native error {errno}).", error.Message);
    }

    [Fact]
    public void OpeningAPathThatDoesNotExistNamesThePathAndTheCall()
    {
        var error = Assert.Throws<BlockDeviceIOException>(() => LinuxBlockDevice.Open("/dev/blocktorrent-no-such-disk"));

        Assert.Equal(BlockDeviceErrorKind.NotFound, error.ErrorKind);
        Assert.Equal("/dev/blocktorrent-no-such-disk", error.DeviceName);
        Assert.Equal("statx", error.Operation);
        Assert.Null(error.Offset);
    }

    [Fact]
    public void ACharacterDeviceIsRefusedAsNotABlockDevice()
    {
        var refusal = Assert.Throws<DeviceSafetyException>(() => LinuxBlockDevice.Open("/dev/null"));

        Assert.Equal(DeviceRefusalReason.NotABlockDevice, refusal.Reason);
        Assert.Contains("/dev/null", refusal.Message, StringComparison.Ordinal);
    }
}
