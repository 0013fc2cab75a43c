using BlockTorrent.Devices.Windows;

namespace BlockTorrent.Devices.Windows.Tests;

public sealed class OptionsAndBufferTests
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

    [Fact]
    public void AnAlignedBufferStartsOnItsAlignmentAndIsZeroed()
    {
        using var buffer = new AlignedBuffer(1 << 20, 4096);

        Assert.Equal(0u, (uint)(buffer.Address % 4096));
        Assert.True(buffer.Memory.Span.IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public void AnAlignedBufferRefusesUseAfterDispose()
    {
        var buffer = new AlignedBuffer(4096, 4096);
        buffer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => buffer.GetSpan());
    }

    [Fact]
    public void AnAlignmentThatIsNotAPowerOfTwoIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBuffer(4096, 3000));
}
