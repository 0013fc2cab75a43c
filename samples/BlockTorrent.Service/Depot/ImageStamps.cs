namespace BlockTorrent.Service.Depot;

/// <summary>The stamps of an image and of its manifest (<see langword="null"/> for a missing file); any difference is a change.</summary>
/// <param name="Image">The image's stamp.</param>
/// <param name="Manifest">The manifest's stamp.</param>
internal readonly record struct ImageStamps(FileStamp? Image, FileStamp? Manifest)
{
    /// <summary>Gets the later of the two files' last changes.</summary>
    public DateTime LastChangeUtc => new(Math.Max(Latest(Image), Latest(Manifest)), DateTimeKind.Utc);

    /// <summary>Reads the stamps of an image and its manifest.</summary>
    /// <param name="image">The image file.</param>
    /// <param name="manifest">The manifest file.</param>
    /// <returns>The stamps.</returns>
    /// <exception cref="IOException">A file's status cannot be read.</exception>
    public static ImageStamps Read(string image, string manifest) => new(FileStamp.Read(image), FileStamp.Read(manifest));

    private static long Latest(FileStamp? stamp) => stamp is FileStamp s ? Math.Max(s.LastWriteUtc.Ticks, s.LastChangeUtc.Ticks) : 0;
}
