using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Devices.Windows.Tests;

public sealed class PhysicalDrivePathTests
{
    [Theory]
    [InlineData(@"\\.\PhysicalDrive0", 0)]
    [InlineData(@"\\.\PHYSICALDRIVE12", 12)]
    [InlineData(@"\\?\PhysicalDrive3", 3)]
    [InlineData(@"\\.\physicaldrive7", 7)]
    public void PhysicalDrivePathsGiveTheirDiskNumber(string path, int number)
    {
        Assert.True(PhysicalDrivePath.TryGetDiskNumber(path, out int parsed));
        Assert.Equal(number, parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("/dev/sdb")]
    [InlineData(@"\\.\PhysicalDrive")]
    [InlineData(@"\\.\PhysicalDrive-1")]
    [InlineData(@"\\.\PhysicalDrive1\")]
    [InlineData(@"\\.\PhysicalDrive 1")]
    [InlineData(@"\\.\C:")]
    [InlineData(@"C:\image.raw")]
    [InlineData(@"\\.\PhysicalDrive99999999999")]
    public void OtherPathsAreNotPhysicalDrives(string? path) =>
        Assert.False(PhysicalDrivePath.IsPhysicalDrivePath(path));

    [Fact]
    public void FormattingAndParsingRoundTrip() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), n =>
            PhysicalDrivePath.TryGetDiskNumber(PhysicalDrivePath.Format(n), out int parsed) && parsed == n).CheckSeeded();

    [Fact]
    public void AnNtDevicePathOpensThroughGlobalRoot() =>
        Assert.Equal(@"\\.\GLOBALROOT\Device\HarddiskVolume1", PhysicalDrivePath.FromNtDevicePath(@"\Device\HarddiskVolume1"));
}
