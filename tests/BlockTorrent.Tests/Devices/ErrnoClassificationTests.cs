using BlockTorrent.Devices;

namespace BlockTorrent.Tests.Devices;

public sealed class ErrnoClassificationTests
{
    public static TheoryData<int, BlockDeviceErrorKind> Table => new()
    {
        { 1, BlockDeviceErrorKind.AccessDenied }, // EPERM
        { 2, BlockDeviceErrorKind.NotFound }, // ENOENT
        { 4, BlockDeviceErrorKind.Other }, // EINTR
        { 5, BlockDeviceErrorKind.MediaError }, // EIO
        { 6, BlockDeviceErrorKind.NotFound }, // ENXIO
        { 9, BlockDeviceErrorKind.Other }, // EBADF
        { 11, BlockDeviceErrorKind.Other }, // EAGAIN
        { 13, BlockDeviceErrorKind.AccessDenied }, // EACCES
        { 16, BlockDeviceErrorKind.Busy }, // EBUSY
        { 19, BlockDeviceErrorKind.NotFound }, // ENODEV
        { 22, BlockDeviceErrorKind.Other }, // EINVAL
        { 25, BlockDeviceErrorKind.Other }, // ENOTTY
        { 28, BlockDeviceErrorKind.NoSpace }, // ENOSPC
        { 30, BlockDeviceErrorKind.ReadOnly }, // EROFS
        { 38, BlockDeviceErrorKind.Other }, // ENOSYS
        { 71, BlockDeviceErrorKind.Other }, // EPROTO
        { 95, BlockDeviceErrorKind.Other }, // EOPNOTSUPP
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void EachLinuxErrnoHasOneKindWhicheverPackageRaisesIt(int errno, BlockDeviceErrorKind kind)
    {
        Assert.Equal(kind, Interop.Libc.Classify(errno));
    }
}
