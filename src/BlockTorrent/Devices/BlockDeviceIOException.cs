using System.Globalization;

namespace BlockTorrent.Devices;

/// <summary>
/// A device call failed. The exception names the device, the native call, the device offset it was made at (when
/// it has one) and the platform's error code, so an operator reading a log line knows which disk failed and where.
/// </summary>
/// <remarks>
/// Platform packages raise it for every failed native call on a device (pread/pwrite/ioctl/fsync,
/// ReadFile/WriteFile/DeviceIoControl). <see cref="ErrorKind"/> classifies the error portably.
/// </remarks>
public class BlockDeviceIOException : IOException
{
    /// <summary>Initializes a new instance with a generic message.</summary>
    public BlockDeviceIOException()
        : this("A block device call failed.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public BlockDeviceIOException(string? message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public BlockDeviceIOException(string? message, Exception? innerException)
        : base(message, innerException)
    {
        DeviceName = string.Empty;
        Operation = string.Empty;
    }

    /// <summary>Initializes a new instance describing a failed native call on a device.</summary>
    /// <param name="deviceName">The device (usually its path), for example <c>/dev/sdb</c>.</param>
    /// <param name="operation">The native call that failed, for example <c>pwrite</c> or <c>ioctl(BLKZEROOUT)</c>.</param>
    /// <param name="offset">The device offset the call was made at, or <see langword="null"/> when the call has none.</param>
    /// <param name="nativeErrorCode">The platform error code (errno on Linux, a Win32 error code on Windows).</param>
    /// <param name="errorKind">The portable classification of <paramref name="nativeErrorCode"/>.</param>
    /// <param name="nativeErrorMessage">The platform's text for the error, for example "Input/output error".</param>
    /// <param name="innerException">The cause, if any.</param>
    public BlockDeviceIOException(string deviceName, string operation, long? offset, int nativeErrorCode, BlockDeviceErrorKind errorKind, string? nativeErrorMessage = null, Exception? innerException = null)
        : base(FormatMessage(deviceName, operation, offset, nativeErrorCode, nativeErrorMessage), innerException)
    {
        ArgumentNullException.ThrowIfNull(deviceName);
        ArgumentNullException.ThrowIfNull(operation);
        DeviceName = deviceName;
        Operation = operation;
        Offset = offset;
        NativeErrorCode = nativeErrorCode;
        ErrorKind = errorKind;
        HResult = nativeErrorCode;
    }

    /// <summary>Gets the device the call was made on (usually its path).</summary>
    public string DeviceName { get; }

    /// <summary>Gets the native call that failed, for example <c>pwrite</c> or <c>ioctl(BLKDISCARD)</c>.</summary>
    public string Operation { get; }

    /// <summary>Gets the device offset the call was made at, or <see langword="null"/> when the call has none (open, fsync, geometry queries).</summary>
    public long? Offset { get; }

    /// <summary>Gets the platform error code: errno on Linux, a Win32 error code on Windows.</summary>
    public int NativeErrorCode { get; }

    /// <summary>Gets the portable classification of <see cref="NativeErrorCode"/>.</summary>
    public BlockDeviceErrorKind ErrorKind { get; }

    private static string FormatMessage(string deviceName, string operation, long? offset, int nativeErrorCode, string? nativeErrorMessage)
    {
        string where = offset is long o ? string.Create(CultureInfo.InvariantCulture, $" at offset {o}") : string.Empty;
        string what = string.IsNullOrEmpty(nativeErrorMessage) ? "error" : nativeErrorMessage;
        return string.Create(CultureInfo.InvariantCulture, $"{operation} on '{deviceName}'{where} failed: {what} (native error {nativeErrorCode}).");
    }
}
