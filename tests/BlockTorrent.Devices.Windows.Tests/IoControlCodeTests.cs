using System.Reflection;
using BlockTorrent.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace BlockTorrent.Devices.Windows.Tests;

// The expected values are the numbers documented for each control code in winioctl.h / the Windows SDK docs.
public sealed class IoControlCodeTests
{
    [Theory]
    [InlineData("IOCTL_DISK_GET_LENGTH_INFO", 0x0007405Cu)]
    [InlineData("IOCTL_DISK_GET_DRIVE_GEOMETRY_EX", 0x000700A0u)]
    [InlineData("IOCTL_DISK_GET_DRIVE_LAYOUT_EX", 0x00070050u)]
    [InlineData("IOCTL_DISK_GET_DISK_ATTRIBUTES", 0x000700F0u)]
    [InlineData("IOCTL_DISK_IS_WRITABLE", 0x00070024u)]
    [InlineData("IOCTL_DISK_UPDATE_PROPERTIES", 0x00070140u)]
    [InlineData("IOCTL_STORAGE_QUERY_PROPERTY", 0x002D1400u)]
    [InlineData("IOCTL_STORAGE_MANAGE_DATA_SET_ATTRIBUTES", 0x002D9404u)]
    [InlineData("IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS", 0x00560000u)]
    [InlineData("FSCTL_LOCK_VOLUME", 0x00090018u)]
    [InlineData("FSCTL_UNLOCK_VOLUME", 0x0009001Cu)]
    [InlineData("FSCTL_DISMOUNT_VOLUME", 0x00090020u)]
    public void EachControlCodeHasItsDocumentedValue(string name, uint documented)
    {
        FieldInfo field = typeof(Interop.Kernel32).GetField(name, BindingFlags.Static | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"Interop.Kernel32 has no field {name}.");

        Assert.Equal(documented, (uint)field.GetValue(null)!);
    }

    [Fact]
    public void CtlCodePacksDeviceTypeAccessFunctionAndMethodIntoTheirBitFields()
    {
        Gen<(int DeviceType, int Function, int Method, int Access)> fields =
            from deviceType in Gen.Choose(0, 0xFFFF)
            from function in Gen.Choose(0, 0xFFF)
            from method in Gen.Choose(0, 3)
            from access in Gen.Choose(0, 3)
            select (deviceType, function, method, access);

        Prop.ForAll(
            fields.ToArbitrary(),
            f =>
            {
                uint code = Interop.Kernel32.CTL_CODE((uint)f.DeviceType, (uint)f.Function, (uint)f.Method, (uint)f.Access);
                return code >> 16 == (uint)f.DeviceType
                    && ((code >> 14) & 0x3) == (uint)f.Access
                    && ((code >> 2) & 0xFFF) == (uint)f.Function
                    && (code & 0x3) == (uint)f.Method;
            }).CheckSeeded();
    }

    [Fact]
    public void TheStoragePropertyIdsAreTheDocumentedEnumValues()
    {
        Assert.Equal(0, Interop.Kernel32.StorageDeviceProperty);
        Assert.Equal(6, Interop.Kernel32.StorageAccessAlignmentProperty);
        Assert.Equal(8, Interop.Kernel32.StorageDeviceTrimProperty);
        Assert.Equal(11, Interop.Kernel32.StorageDeviceLBProvisioningProperty);
        Assert.Equal(1u, Interop.Kernel32.DeviceDsmAction_Trim);
    }
}
