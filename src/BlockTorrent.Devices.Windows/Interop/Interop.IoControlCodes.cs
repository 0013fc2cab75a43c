namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        // Device types, transfer methods and access checks of devioctl.h / winioctl.h.
        internal const uint FILE_DEVICE_DISK = 0x00000007;
        internal const uint FILE_DEVICE_FILE_SYSTEM = 0x00000009;
        internal const uint FILE_DEVICE_MASS_STORAGE = 0x0000002d;
        internal const uint IOCTL_DISK_BASE = FILE_DEVICE_DISK;
        internal const uint IOCTL_STORAGE_BASE = FILE_DEVICE_MASS_STORAGE;
        internal const uint IOCTL_VOLUME_BASE = 'V';

        internal const uint METHOD_BUFFERED = 0;
        internal const uint FILE_ANY_ACCESS = 0;
        internal const uint FILE_READ_ACCESS = 0x0001;
        internal const uint FILE_WRITE_ACCESS = 0x0002;

        // The control codes below are computed the way the SDK headers define them, so a reader can check each
        // against its #define; the unit tests check them against the documented numeric values.
        internal static readonly uint IOCTL_DISK_GET_LENGTH_INFO = CTL_CODE(IOCTL_DISK_BASE, 0x0017, METHOD_BUFFERED, FILE_READ_ACCESS);
        internal static readonly uint IOCTL_DISK_GET_DRIVE_GEOMETRY_EX = CTL_CODE(IOCTL_DISK_BASE, 0x0028, METHOD_BUFFERED, FILE_ANY_ACCESS);
        internal static readonly uint IOCTL_DISK_GET_DRIVE_LAYOUT_EX = CTL_CODE(IOCTL_DISK_BASE, 0x0014, METHOD_BUFFERED, FILE_ANY_ACCESS);
        internal static readonly uint IOCTL_DISK_GET_DISK_ATTRIBUTES = CTL_CODE(IOCTL_DISK_BASE, 0x003c, METHOD_BUFFERED, FILE_ANY_ACCESS);
        internal static readonly uint IOCTL_DISK_IS_WRITABLE = CTL_CODE(IOCTL_DISK_BASE, 0x0009, METHOD_BUFFERED, FILE_ANY_ACCESS);
        internal static readonly uint IOCTL_DISK_UPDATE_PROPERTIES = CTL_CODE(IOCTL_DISK_BASE, 0x0050, METHOD_BUFFERED, FILE_ANY_ACCESS);
        internal static readonly uint IOCTL_STORAGE_QUERY_PROPERTY = CTL_CODE(IOCTL_STORAGE_BASE, 0x0500, METHOD_BUFFERED, FILE_ANY_ACCESS);
        internal static readonly uint IOCTL_STORAGE_MANAGE_DATA_SET_ATTRIBUTES = CTL_CODE(IOCTL_STORAGE_BASE, 0x0501, METHOD_BUFFERED, FILE_WRITE_ACCESS);
        internal static readonly uint IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS = CTL_CODE(IOCTL_VOLUME_BASE, 0, METHOD_BUFFERED, FILE_ANY_ACCESS);
        internal static readonly uint FSCTL_LOCK_VOLUME = CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 6, METHOD_BUFFERED, FILE_ANY_ACCESS);
        internal static readonly uint FSCTL_UNLOCK_VOLUME = CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 7, METHOD_BUFFERED, FILE_ANY_ACCESS);
        internal static readonly uint FSCTL_DISMOUNT_VOLUME = CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 8, METHOD_BUFFERED, FILE_ANY_ACCESS);

        // STORAGE_PROPERTY_ID and STORAGE_QUERY_TYPE values used with IOCTL_STORAGE_QUERY_PROPERTY.
        internal const int StorageDeviceProperty = 0;
        internal const int StorageAccessAlignmentProperty = 6;
        internal const int StorageDeviceTrimProperty = 8;
        internal const int StorageDeviceLBProvisioningProperty = 11;
        internal const int PropertyStandardQuery = 0;

        // DEVICE_DATA_MANAGEMENT_SET_ACTION for IOCTL_STORAGE_MANAGE_DATA_SET_ATTRIBUTES.
        internal const uint DeviceDsmAction_Trim = 1;

        // GET_DISK_ATTRIBUTES.Attributes bits.
        internal const ulong DISK_ATTRIBUTE_OFFLINE = 0x0000000000000001;
        internal const ulong DISK_ATTRIBUTE_READ_ONLY = 0x0000000000000002;

        // PARTITION_STYLE.
        internal const uint PARTITION_STYLE_MBR = 0;
        internal const uint PARTITION_STYLE_GPT = 1;
        internal const uint PARTITION_STYLE_RAW = 2;

        /// <summary>The CTL_CODE macro of devioctl.h.</summary>
        internal static uint CTL_CODE(uint deviceType, uint function, uint method, uint access)
            => (deviceType << 16) | (access << 14) | (function << 2) | method;
    }
}
