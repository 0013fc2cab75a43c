namespace BlockTorrent.Devices.Windows;

/// <summary>What a DEVICE_LB_PROVISIONING_DESCRIPTOR says about unmapping: whether unmapped sectors read as zeros, and in which units.</summary>
/// <param name="ThinProvisioningEnabled">The device is thinly provisioned.</param>
/// <param name="ReadsZerosAfterUnmap">Unmapped sectors read back as zeros (SCSI LBPRZ, ATA RZAT, NVMe DLFEAT).</param>
/// <param name="Granularity">The unit, in bytes, the device unmaps in; a multiple of the logical sector size.</param>
/// <param name="Alignment">The byte offset of the first whole unit.</param>
internal readonly record struct LogicalBlockProvisioning(bool ThinProvisioningEnabled, bool ReadsZerosAfterUnmap, long Granularity, long Alignment);
