using System.Globalization;

namespace BlockTorrent.Devices.Windows;

/// <summary>
/// Recognizes and builds Windows physical disk paths (<c>\\.\PhysicalDriveN</c>). Pure string work that runs on
/// any platform, so a command line can route a path to the right device package before it opens anything.
/// </summary>
public static class PhysicalDrivePath
{
    private const string Prefix = @"\\.\PhysicalDrive";
    private const string LongPrefix = @"\\?\PhysicalDrive";

    /// <summary>Returns whether <paramref name="path"/> names a whole physical disk (<c>\\.\PhysicalDriveN</c> or <c>\\?\PhysicalDriveN</c>, any case).</summary>
    /// <param name="path">The path.</param>
    /// <returns><see langword="true"/> for a physical disk path.</returns>
    public static bool IsPhysicalDrivePath(string? path) => TryGetDiskNumber(path, out _);

    /// <summary>Extracts the disk number from a physical disk path.</summary>
    /// <param name="path">The path, for example <c>\\.\PhysicalDrive2</c>.</param>
    /// <param name="diskNumber">The disk number, when the path is one.</param>
    /// <returns><see langword="true"/> when <paramref name="path"/> is a physical disk path.</returns>
    public static bool TryGetDiskNumber(string? path, out int diskNumber)
    {
        diskNumber = -1;
        if (path is null)
        {
            return false;
        }

        ReadOnlySpan<char> digits;
        if (path.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            digits = path.AsSpan(Prefix.Length);
        }
        else if (path.StartsWith(LongPrefix, StringComparison.OrdinalIgnoreCase))
        {
            digits = path.AsSpan(LongPrefix.Length);
        }
        else
        {
            return false;
        }

        // Digits only: no sign, no spaces, no trailing path ("\\.\PhysicalDrive1\x" is not a disk).
        if (digits.IsEmpty || digits.ContainsAnyExceptInRange('0', '9')
            || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int number))
        {
            return false;
        }

        diskNumber = number;
        return true;
    }

    /// <summary>Builds the path of disk <paramref name="diskNumber"/>: <c>\\.\PhysicalDriveN</c>.</summary>
    /// <param name="diskNumber">The disk number.</param>
    /// <returns>The path.</returns>
    public static string Format(int diskNumber)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(diskNumber);
        return string.Create(CultureInfo.InvariantCulture, $"{Prefix}{diskNumber}");
    }

    /// <summary>Builds the path that opens an NT device path such as <c>\Device\HarddiskVolume1</c> through Win32.</summary>
    internal static string FromNtDevicePath(string ntPath) =>
        ntPath.StartsWith(@"\Device\", StringComparison.OrdinalIgnoreCase) ? @"\\.\GLOBALROOT" + ntPath : ntPath;
}
