namespace BlockTorrent.Devices.Windows.Tests;

public sealed class WindowsDiskPlanTests
{
    [Fact]
    public void APlanListsTheVolumesItWouldDismountAndTheRangeItWouldWrite()
    {
        WindowsDiskPlan plan = WindowsDiskPlan.Create(RecordedMachine.Describe(RecordedMachine.UsbStick), new WindowsBlockDeviceOptions { MinimumLength = 8L << 30 });

        Assert.True(plan.IsAllowed);
        Assert.Equal([RecordedMachine.UsbE], plan.VolumesToDismount);
        Assert.Contains(@"E:\", plan.Description, StringComparison.Ordinal);
        Assert.Contains("[0, 8589934592)", plan.Description, StringComparison.Ordinal);
        Assert.Contains("written as zeros: the disk does not trim", plan.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void APlanForADiskThatPromisesZerosAfterTrimTrimsInItsGranularity()
    {
        WindowsDiskPlan plan = WindowsDiskPlan.Create(RecordedMachine.Describe(RecordedMachine.Ssd), new WindowsBlockDeviceOptions());

        Assert.True(plan.ZeroesByTrim);
        Assert.Contains("whole units of 1048576 bytes", plan.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void APlanDoesNotTrimToZeroWhenTheOptionsSayNot() =>
        Assert.False(WindowsDiskPlan.Create(RecordedMachine.Describe(RecordedMachine.Ssd), new WindowsBlockDeviceOptions { ZeroByTrim = false }).ZeroesByTrim);

    [Fact]
    public void ARefusedPlanSaysWhyAndDismountsNothing()
    {
        WindowsDiskPlan plan = WindowsDiskPlan.Create(RecordedMachine.Describe(RecordedMachine.OfflineDisk), new WindowsBlockDeviceOptions());

        Assert.Equal(DeviceRefusalReason.Offline, plan.Refusal?.Reason);
        Assert.Empty(plan.VolumesToDismount);
        Assert.Contains("Refused:", plan.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void AReadOnlyPlanOfTheBootDiskIsAllowedAndTouchesNothing()
    {
        WindowsDiskPlan plan = WindowsDiskPlan.Create(RecordedMachine.Describe(RecordedMachine.Nvme), new WindowsBlockDeviceOptions { ReadOnly = true });

        Assert.True(plan.IsAllowed);
        Assert.Empty(plan.VolumesToDismount);
        Assert.Contains("read-only", plan.Description, StringComparison.Ordinal);
    }
}
