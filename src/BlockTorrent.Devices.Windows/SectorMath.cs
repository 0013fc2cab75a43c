namespace BlockTorrent.Devices.Windows;

/// <summary>
/// Alignment arithmetic for unbuffered disk I/O. FILE_FLAG_NO_BUFFERING transfers must start and end on sector
/// boundaries and use sector-aligned memory; everything else goes through a bounce buffer.
/// </summary>
internal static class SectorMath
{
    /// <summary>Rounds <paramref name="value"/> down to a multiple of <paramref name="alignment"/> (a power of two or any positive unit).</summary>
    internal static long AlignDown(long value, long alignment) => value - (value % alignment);

    /// <summary>Rounds <paramref name="value"/> up to a multiple of <paramref name="alignment"/>.</summary>
    internal static long AlignUp(long value, long alignment)
    {
        long rest = value % alignment;
        return rest == 0 ? value : value + (alignment - rest);
    }

    /// <summary>Returns whether a transfer can go to the device as it is: offset, length and buffer address all aligned.</summary>
    internal static bool IsDirect(long offset, long length, nuint address, int sectorSize, int memoryAlignment) =>
        offset % sectorSize == 0 && length % sectorSize == 0 && address % (nuint)memoryAlignment == 0;

    /// <summary>
    /// Finds the largest range inside <c>[offset, offset + length)</c> made of whole units of <paramref name="unit"/>
    /// bytes, where units start at <paramref name="unitOrigin"/> plus multiples of the unit (the trim granularity
    /// alignment). Returns <see langword="false"/> when not one whole unit fits.
    /// </summary>
    internal static bool TryGetWholeUnits(long offset, long length, long unit, long unitOrigin, out long start, out long end)
    {
        if (unit <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(unit), unit, "The unit must be positive.");
        }

        // Unit boundaries are unitOrigin + k * unit for k >= 0 (the origin is below one unit, so no boundary is
        // negative); the arithmetic stays on non-negative values, where % rounds the way alignment needs.
        unitOrigin %= unit;
        long limit = offset + length;
        start = offset <= unitOrigin ? unitOrigin : AlignUp(offset - unitOrigin, unit) + unitOrigin;
        end = limit < unitOrigin ? 0 : AlignDown(limit - unitOrigin, unit) + unitOrigin;
        if (end <= start)
        {
            start = end = offset;
            return false;
        }

        return true;
    }
}
