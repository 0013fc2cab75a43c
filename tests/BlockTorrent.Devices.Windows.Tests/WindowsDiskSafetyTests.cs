namespace BlockTorrent.Devices.Windows.Tests;

public sealed class WindowsDiskSafetyTests
{
    [Fact]
    public void TheDiskHoldingTheBootVolumeIsRefusedNamingTheVolume()
    {
        DeviceSafetyException refusal = Refusal(RecordedMachine.Nvme, imageLength: 0);

        Assert.Equal((DeviceRefusalReason.HoldsRootFilesystem, @"\\.\PhysicalDrive0"), (refusal.Reason, refusal.DeviceName));
        Assert.Contains(@"C:\Windows", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("boot volume", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheDiskHoldingTheSystemVolumeIsRefusedNamingTheVolume()
    {
        DeviceSafetyException refusal = Refusal(RecordedMachine.BootDisk, imageLength: 0);

        Assert.Equal(DeviceRefusalReason.HoldsRootFilesystem, refusal.Reason);
        Assert.Contains(@"\Device\HarddiskVolume1", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOfflineDiskIsRefusedSayingHowToBringItOnline()
    {
        DeviceSafetyException refusal = Refusal(RecordedMachine.OfflineDisk, imageLength: 0);

        Assert.Equal(DeviceRefusalReason.Offline, refusal.Reason);
        Assert.Contains("online disk", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWriteProtectedDiskIsRefusedAsReadOnly()
    {
        DeviceSafetyException refusal = Refusal(RecordedMachine.WriteProtectedCard, imageLength: 0);

        Assert.Equal(DeviceRefusalReason.ReadOnly, refusal.Reason);
        Assert.Contains("read-only", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADiskWithTheReadOnlyAttributeIsRefused()
    {
        DiskQueryResults raw = RecordedMachine.UsbStick;
        var readOnly = new DiskQueryResults
        {
            Number = raw.Number,
            LengthInfo = raw.LengthInfo,
            DeviceDescriptor = raw.DeviceDescriptor,
            DiskAttributes = IoctlBytes.DiskAttributes(offline: false, readOnly: true),
        };

        Assert.Equal(DeviceRefusalReason.ReadOnly, Refusal(readOnly, imageLength: 0).Reason);
    }

    [Fact]
    public void ADiskSmallerThanTheImageIsRefusedWithBothSizes()
    {
        DeviceSafetyException refusal = Refusal(RecordedMachine.UsbStick, imageLength: 64L << 30);

        Assert.Equal(DeviceRefusalReason.TooSmall, refusal.Reason);
        Assert.Contains("68719476736 bytes", refusal.Message, StringComparison.Ordinal);
        Assert.Contains($"{RecordedMachine.UsbLength} bytes", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADiskExactlyTheImagesSizeIsAccepted() =>
        Assert.Null(WindowsDiskSafety.Evaluate(RecordedMachine.Describe(RecordedMachine.UsbStick), RecordedMachine.UsbLength));

    [Fact]
    public void ADiskWithMountedVolumesIsAcceptedBecauseItsVolumesAreDismountedOnOpen() =>
        Assert.Null(WindowsDiskSafety.Evaluate(RecordedMachine.Describe(RecordedMachine.Ssd), 32L << 30));

    [Fact]
    public void TheBootDiskIsRefusedBeforeAnyOtherReason()
    {
        // Read-only, offline and too small as well: the reason given is still the one nothing can override.
        DiskQueryResults raw = RecordedMachine.Nvme;
        var worst = new DiskQueryResults
        {
            Number = raw.Number,
            LengthInfo = raw.LengthInfo,
            DiskAttributes = IoctlBytes.DiskAttributes(offline: true, readOnly: true),
        };

        Assert.Equal(DeviceRefusalReason.HoldsRootFilesystem, Refusal(worst, imageLength: long.MaxValue).Reason);
    }

    [Fact]
    public void ForceDoesNotMakeTheBootDiskAcceptable()
    {
        WindowsDiskPlan plan = WindowsDiskPlan.Create(RecordedMachine.Describe(RecordedMachine.Nvme), new WindowsBlockDeviceOptions { Force = true });

        Assert.False(plan.IsAllowed);
        Assert.Empty(plan.VolumesToDismount);
    }

    [Fact]
    public void ARefusalNamesTheDiskByPathAndModel()
    {
        DeviceSafetyException refusal = Refusal(RecordedMachine.OfflineDisk, imageLength: 0);

        Assert.StartsWith(@"Refusing to write to '\\.\PhysicalDrive2'", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("ATA ST2000DM008-2FR102", refusal.Message, StringComparison.Ordinal);
    }

    private static DeviceSafetyException Refusal(DiskQueryResults raw, long imageLength) =>
        WindowsDiskSafety.Evaluate(RecordedMachine.Describe(raw), imageLength) ?? throw new Xunit.Sdk.XunitException("The disk was accepted.");
}
