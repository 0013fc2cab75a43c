using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using static BlockTorrent.Devices.Windows.Interop.Errors;

namespace BlockTorrent.Devices.Windows;

/// <summary>Turns Win32 error codes into <see cref="BlockDeviceIOException"/>s that name the disk, the call and the error.</summary>
internal static class Win32Error
{
    /// <summary>Classifies a Win32 error code portably.</summary>
    internal static BlockDeviceErrorKind Classify(int error) => error switch
    {
        ERROR_CRC or ERROR_SECTOR_NOT_FOUND or ERROR_WRITE_FAULT or ERROR_READ_FAULT or ERROR_GEN_FAILURE or ERROR_IO_DEVICE => BlockDeviceErrorKind.MediaError,
        ERROR_DISK_FULL or ERROR_HANDLE_DISK_FULL => BlockDeviceErrorKind.NoSpace,
        ERROR_WRITE_PROTECT => BlockDeviceErrorKind.ReadOnly,
        ERROR_SHARING_VIOLATION or ERROR_LOCK_VIOLATION or ERROR_BUSY or ERROR_DRIVE_LOCKED => BlockDeviceErrorKind.Busy,
        ERROR_FILE_NOT_FOUND or ERROR_PATH_NOT_FOUND or ERROR_NOT_READY or ERROR_NO_SUCH_DEVICE or ERROR_NO_MEDIA_IN_DRIVE
            or ERROR_DEVICE_NOT_CONNECTED or ERROR_DEVICE_REMOVED => BlockDeviceErrorKind.NotFound,
        ERROR_ACCESS_DENIED => BlockDeviceErrorKind.AccessDenied,
        _ => BlockDeviceErrorKind.Other,
    };

    /// <summary>
    /// Extracts the Win32 error from an exception .NET raised for a failed Win32 call (its HRESULT is
    /// <c>0x8007xxxx</c>), or returns <see langword="null"/> when it carries none.
    /// </summary>
    internal static int? FromHResult(int hresult)
    {
        const int FacilityWin32 = 7;
        if (hresult < 0 && ((hresult >> 16) & 0x1FFF) == FacilityWin32)
        {
            return hresult & 0xFFFF;
        }

        return null;
    }

    /// <summary>Creates the exception for Win32 error <paramref name="error"/> from <paramref name="operation"/> on <paramref name="deviceName"/>.</summary>
    internal static BlockDeviceIOException Create(string deviceName, string operation, long? offset, int error, Exception? innerException = null) =>
        new(deviceName, operation, offset, error, Classify(error), Marshal.GetPInvokeErrorMessage(error), innerException);

    /// <summary>Creates the exception for the error the last P/Invoke left.</summary>
    internal static BlockDeviceIOException FromLastError(string deviceName, string operation, long? offset = null) =>
        Create(deviceName, operation, offset, Marshal.GetLastPInvokeError());

    /// <summary>Throws the exception for the error the last P/Invoke left.</summary>
    [DoesNotReturn]
    internal static void ThrowLastError(string deviceName, string operation, long? offset = null) =>
        throw FromLastError(deviceName, operation, offset);

    /// <summary>Wraps an exception .NET raised for a failed Windows I/O call (RandomAccess) so it names the disk, the call and the offset.</summary>
    internal static BlockDeviceIOException Wrap(string deviceName, string operation, long offset, Exception exception)
    {
        if (exception is BlockDeviceIOException typed)
        {
            return typed;
        }

        int error = FromHResult(exception.HResult) ?? (exception is UnauthorizedAccessException ? ERROR_ACCESS_DENIED : ERROR_GEN_FAILURE);
        return Create(deviceName, operation, offset, error, exception);
    }
}
