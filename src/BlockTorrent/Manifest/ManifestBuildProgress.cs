namespace BlockTorrent.Manifest;

/// <summary>How far <see cref="ManifestBuilder"/> has hashed an image.</summary>
/// <param name="BytesHashed">The number of image bytes hashed so far.</param>
/// <param name="TotalBytes">The image length.</param>
public readonly record struct ManifestBuildProgress(long BytesHashed, long TotalBytes);
