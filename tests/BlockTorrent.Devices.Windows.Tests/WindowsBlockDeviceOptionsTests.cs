namespace BlockTorrent.Devices.Windows.Tests;

public sealed class WindowsBlockDeviceOptionsTests
{
    [Fact]
    public void TheDefaultOptionsAreValid() => new WindowsBlockDeviceOptions().Validate();

    [Fact]
    public void ANegativeMinimumLengthIsRejectedByName()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new WindowsBlockDeviceOptions { MinimumLength = -1 }.Validate());
        Assert.Equal("MinimumLength", error.ParamName);
    }

    [Fact]
    public void ZeroLockAttemptsAreRejectedByName()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new WindowsBlockDeviceOptions { VolumeLockAttempts = 0 }.Validate());
        Assert.Equal("VolumeLockAttempts", error.ParamName);
    }

    [Fact]
    public void ALockRetryDelayOverAMinuteIsRejectedByName()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new WindowsBlockDeviceOptions { VolumeLockRetryDelay = TimeSpan.FromMinutes(2) }.Validate());
        Assert.Equal("VolumeLockRetryDelay", error.ParamName);
    }
}
