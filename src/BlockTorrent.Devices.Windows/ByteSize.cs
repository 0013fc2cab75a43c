using System.Globalization;

namespace BlockTorrent.Devices.Windows;

/// <summary>Formats byte counts for operators: exact bytes and a binary-prefixed approximation.</summary>
internal static class ByteSize
{
    private static readonly string[] Units = ["KiB", "MiB", "GiB", "TiB", "PiB"];

    /// <summary>Formats <paramref name="bytes"/> as, for example, <c>1000204886016 bytes (931.5 GiB)</c>.</summary>
    internal static string Format(long bytes)
    {
        if (bytes < 1024)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes");
        }

        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes ({value:0.0} {Units[unit]})");
    }
}
