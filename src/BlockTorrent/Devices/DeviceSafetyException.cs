namespace BlockTorrent.Devices;

/// <summary>
/// BlockTorrent refused to image a target because writing to it could destroy data that is in use. Nothing has
/// been written. The message names the device and says exactly why; <see cref="Reason"/> says it as a value.
/// </summary>
public class DeviceSafetyException : InvalidOperationException
{
    /// <summary>Initializes a new instance with a generic message.</summary>
    public DeviceSafetyException()
        : this("The target device was refused.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public DeviceSafetyException(string? message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public DeviceSafetyException(string? message, Exception? innerException)
        : base(message, innerException)
    {
        DeviceName = string.Empty;
    }

    /// <summary>Initializes a new instance for a refused device.</summary>
    /// <param name="deviceName">The device (usually its path), for example <c>/dev/sdb</c>.</param>
    /// <param name="reason">Why it was refused.</param>
    /// <param name="detail">The specifics, phrased for an operator, for example "/dev/sdb1 is mounted on /home".</param>
    /// <param name="innerException">The cause, if any (for example the failed exclusive open).</param>
    public DeviceSafetyException(string deviceName, DeviceRefusalReason reason, string detail, Exception? innerException = null)
        : base($"Refusing to write to '{deviceName}': {detail}", innerException)
    {
        ArgumentNullException.ThrowIfNull(deviceName);
        ArgumentNullException.ThrowIfNull(detail);
        DeviceName = deviceName;
        Reason = reason;
    }

    /// <summary>Gets the refused device (usually its path).</summary>
    public string DeviceName { get; }

    /// <summary>Gets why the device was refused.</summary>
    public DeviceRefusalReason Reason { get; }
}
