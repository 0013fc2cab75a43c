namespace BlockTorrent.Service.Options;

/// <summary>What an instance of the imaging service does.</summary>
internal enum ServiceRole
{
    /// <summary>No role configured: the service refuses to start.</summary>
    None = 0,

    /// <summary>Seeds every image in a folder, runs a tracker, and serves the manifests.</summary>
    Depot = 1,

    /// <summary>Deploys one image to one device, then seeds it to the other targets.</summary>
    Target = 2,
}
