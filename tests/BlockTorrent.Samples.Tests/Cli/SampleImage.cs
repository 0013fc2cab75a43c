namespace BlockTorrent.Samples.Tests.Cli;

/// <summary>Small image files for the command tests: random data with a zero run and a repeated block.</summary>
internal static class SampleImage
{
    /// <summary>Writes an image: random bytes, then a zero run, then a copy of the first quarter.</summary>
    public static string Write(string path, int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes.AsSpan(0, length / 2));
        bytes.AsSpan(0, length / 4).CopyTo(bytes.AsSpan(length * 3 / 4));
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
