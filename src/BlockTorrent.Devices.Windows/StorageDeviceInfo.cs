namespace BlockTorrent.Devices.Windows;

/// <summary>What a STORAGE_DEVICE_DESCRIPTOR says about a disk.</summary>
internal readonly record struct StorageDeviceInfo(string Vendor, string Product, string Revision, string SerialNumber, WindowsBusType BusType, bool IsRemovable);
