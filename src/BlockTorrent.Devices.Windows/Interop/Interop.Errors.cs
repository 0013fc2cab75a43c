namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    /// <summary>Win32 error codes (winerror.h) that this package reacts to or classifies.</summary>
    internal static class Errors
    {
        internal const int ERROR_SUCCESS = 0;
        internal const int ERROR_INVALID_FUNCTION = 1;
        internal const int ERROR_FILE_NOT_FOUND = 2;
        internal const int ERROR_PATH_NOT_FOUND = 3;
        internal const int ERROR_ACCESS_DENIED = 5;
        internal const int ERROR_INVALID_HANDLE = 6;
        internal const int ERROR_NO_MORE_FILES = 18;
        internal const int ERROR_WRITE_PROTECT = 19;
        internal const int ERROR_NOT_READY = 21;
        internal const int ERROR_CRC = 23;
        internal const int ERROR_SECTOR_NOT_FOUND = 27;
        internal const int ERROR_WRITE_FAULT = 29;
        internal const int ERROR_READ_FAULT = 30;
        internal const int ERROR_GEN_FAILURE = 31;
        internal const int ERROR_SHARING_VIOLATION = 32;
        internal const int ERROR_LOCK_VIOLATION = 33;
        internal const int ERROR_HANDLE_EOF = 38;
        internal const int ERROR_HANDLE_DISK_FULL = 39;
        internal const int ERROR_NOT_SUPPORTED = 50;
        internal const int ERROR_INVALID_PARAMETER = 87;
        internal const int ERROR_DRIVE_LOCKED = 108;
        internal const int ERROR_DISK_FULL = 112;
        internal const int ERROR_INSUFFICIENT_BUFFER = 122;
        internal const int ERROR_BUSY = 170;
        internal const int ERROR_MORE_DATA = 234;
        internal const int ERROR_NO_SUCH_DEVICE = 433;
        internal const int ERROR_OPERATION_ABORTED = 995;
        internal const int ERROR_NO_MEDIA_IN_DRIVE = 1112;
        internal const int ERROR_IO_DEVICE = 1117;
        internal const int ERROR_DEVICE_NOT_CONNECTED = 1167;
        internal const int ERROR_DEVICE_REMOVED = 1617;
    }
}
