namespace BlockTorrent.Devices.Windows.Tests;

public sealed class Win32ErrorTests
{
    [Theory]
    [InlineData(5, BlockDeviceErrorKind.AccessDenied)]      // ERROR_ACCESS_DENIED
    [InlineData(19, BlockDeviceErrorKind.ReadOnly)]         // ERROR_WRITE_PROTECT
    [InlineData(23, BlockDeviceErrorKind.MediaError)]       // ERROR_CRC
    [InlineData(1117, BlockDeviceErrorKind.MediaError)]     // ERROR_IO_DEVICE
    [InlineData(32, BlockDeviceErrorKind.Busy)]             // ERROR_SHARING_VIOLATION
    [InlineData(33, BlockDeviceErrorKind.Busy)]             // ERROR_LOCK_VIOLATION
    [InlineData(112, BlockDeviceErrorKind.NoSpace)]         // ERROR_DISK_FULL
    [InlineData(2, BlockDeviceErrorKind.NotFound)]          // ERROR_FILE_NOT_FOUND
    [InlineData(1167, BlockDeviceErrorKind.NotFound)]       // ERROR_DEVICE_NOT_CONNECTED
    [InlineData(87, BlockDeviceErrorKind.Other)]            // ERROR_INVALID_PARAMETER
    public void Win32ErrorsAreClassifiedPortably(int error, BlockDeviceErrorKind kind) =>
        Assert.Equal(kind, Win32Error.Classify(error));

    [Theory]
    [InlineData(unchecked((int)0x80070005), 5)]
    [InlineData(unchecked((int)0x80070017), 23)]
    public void AWin32HResultGivesBackItsErrorCode(int hresult, int error) =>
        Assert.Equal(error, Win32Error.FromHResult(hresult));

    [Theory]
    [InlineData(unchecked((int)0x80131620))] // COR_E_IO: no Win32 error inside
    [InlineData(0)]
    public void AnHResultOfAnotherFacilityHasNoWin32Error(int hresult) =>
        Assert.Null(Win32Error.FromHResult(hresult));

    [Fact]
    public void AFailedWriteNamesTheDiskTheCallTheOffsetAndTheError()
    {
        var cause = new IOException("The request could not be performed because of an I/O device error.", unchecked((int)0x8007045D));

        BlockDeviceIOException error = Win32Error.Wrap(@"\\.\PhysicalDrive3", "WriteFile", 4 << 20, cause);

        Assert.Equal((@"\\.\PhysicalDrive3", "WriteFile", 4L << 20, 1117, BlockDeviceErrorKind.MediaError), (error.DeviceName, error.Operation, error.Offset, error.NativeErrorCode, error.ErrorKind));
        Assert.Contains(@"\\.\PhysicalDrive3", error.Message, StringComparison.Ordinal);
        Assert.Contains("WriteFile", error.Message, StringComparison.Ordinal);
        Assert.Same(cause, error.InnerException);
    }

    [Fact]
    public void AnAccessDeniedExceptionWithoutHResultBecomesErrorAccessDenied() =>
        Assert.Equal(5, Win32Error.Wrap("d", "ReadFile", 0, new UnauthorizedAccessException("no")).NativeErrorCode);
}
