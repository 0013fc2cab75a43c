namespace BlockTorrent.Devices.Linux;

/// <summary>One reason a target may not be written, phrased for an operator.</summary>
/// <param name="Reason">The reason as a value.</param>
/// <param name="Detail">The specifics, for example <c>/dev/sdb1 is mounted on /home</c>.</param>
/// <param name="CanForce">Whether <see cref="LinuxBlockDeviceOptions.Force"/> overrides it.</param>
public sealed record DeviceRefusal(DeviceRefusalReason Reason, string Detail, bool CanForce);
