using System.Globalization;

namespace BlockTorrent.Devices;

/// <summary>The range checks every device implementation in the core makes before it touches anything.</summary>
internal static class DeviceRange
{
    /// <summary>Throws unless <c>[offset, offset + length)</c> lies inside a device of <paramref name="deviceLength"/> bytes.</summary>
    /// <param name="deviceName">The device, named in the error.</param>
    /// <param name="deviceLength">The device length.</param>
    /// <param name="offset">The start of the range.</param>
    /// <param name="length">The length of the range.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range reaches outside the device.</exception>
    public static void Check(string deviceName, long deviceLength, long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > deviceLength || length > deviceLength - offset)
        {
            ThrowOutOfRange(deviceName, deviceLength, offset, length);
        }
    }

    /// <summary>Throws unless a gathered write of <paramref name="buffers"/> at <paramref name="offset"/> lies inside the device.</summary>
    /// <param name="deviceName">The device, named in the error.</param>
    /// <param name="deviceLength">The device length.</param>
    /// <param name="offset">The start of the write.</param>
    /// <param name="buffers">The buffers, back to back.</param>
    /// <returns>The total length of the buffers.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The write reaches outside the device.</exception>
    public static long CheckGather(string deviceName, long deviceLength, long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        long total = 0;
        for (int i = 0; i < buffers.Count; i++)
        {
            total += buffers[i].Length;
        }

        Check(deviceName, deviceLength, offset, total);
        return total;
    }

    /// <summary>Clamps a read to the end of the device, throwing when it starts outside it.</summary>
    /// <param name="deviceName">The device, named in the error.</param>
    /// <param name="deviceLength">The device length.</param>
    /// <param name="offset">The start of the read.</param>
    /// <param name="length">The requested length.</param>
    /// <returns>The number of bytes that can be read.</returns>
    public static int ClampRead(string deviceName, long deviceLength, long offset, int length)
    {
        if (offset < 0 || offset > deviceLength)
        {
            ThrowOutOfRange(deviceName, deviceLength, offset, length);
        }

        return (int)Math.Min(length, deviceLength - offset);
    }

    private static void ThrowOutOfRange(string deviceName, long deviceLength, long offset, long length) =>
        throw new ArgumentOutOfRangeException(
            nameof(offset),
            string.Create(CultureInfo.InvariantCulture, $"The range [{offset}, {offset + length}) reaches outside '{deviceName}', which is {deviceLength} bytes long."));
}
