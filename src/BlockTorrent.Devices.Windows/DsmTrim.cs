using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static BlockTorrent.Devices.Windows.Interop.Kernel32;

namespace BlockTorrent.Devices.Windows;

/// <summary>
/// Builds IOCTL_STORAGE_MANAGE_DATA_SET_ATTRIBUTES trim requests: a DEVICE_DSM_INPUT header followed, at 8-byte
/// alignment, by DEVICE_DATA_SET_RANGE entries. Large ranges are cut so one request never asks a driver for more
/// than <see cref="MaxRangeLength"/> per range or <see cref="MaxRangesPerRequest"/> ranges.
/// </summary>
internal static class DsmTrim
{
    /// <summary>The longest range in one DEVICE_DATA_SET_RANGE (1 GiB): drivers cut ranges into UNMAP descriptors of bounded LBA counts.</summary>
    internal const long MaxRangeLength = 1L << 30;

    /// <summary>The most ranges in one request, which bounds the input buffer to a few KiB.</summary>
    internal const int MaxRangesPerRequest = 64;

    /// <summary>The offset of the first range: the 28-byte header rounded up to the ranges' 8-byte alignment.</summary>
    internal static readonly int RangesOffset = (int)SectorMath.AlignUp(Unsafe.SizeOf<DEVICE_MANAGE_DATA_SET_ATTRIBUTES>(), 8);

    /// <summary>Cuts <c>[offset, offset + length)</c> into request inputs, in device order.</summary>
    internal static List<byte[]> BuildRequests(long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var requests = new List<byte[]>();
        var ranges = new List<DEVICE_DATA_SET_RANGE>(MaxRangesPerRequest);
        long position = offset;
        long end = offset + length;
        while (position < end)
        {
            long count = Math.Min(MaxRangeLength, end - position);
            ranges.Add(new DEVICE_DATA_SET_RANGE { StartingOffset = position, LengthInBytes = (ulong)count });
            position += count;
            if (ranges.Count == MaxRangesPerRequest || position == end)
            {
                requests.Add(BuildInput(CollectionsMarshal.AsSpan(ranges)));
                ranges.Clear();
            }
        }

        return requests;
    }

    /// <summary>Builds one DEVICE_DSM_INPUT for a trim of <paramref name="ranges"/>.</summary>
    internal static byte[] BuildInput(ReadOnlySpan<DEVICE_DATA_SET_RANGE> ranges)
    {
        int rangeSize = Unsafe.SizeOf<DEVICE_DATA_SET_RANGE>();
        byte[] input = new byte[RangesOffset + (ranges.Length * rangeSize)];
        var header = new DEVICE_MANAGE_DATA_SET_ATTRIBUTES
        {
            Size = (uint)Unsafe.SizeOf<DEVICE_MANAGE_DATA_SET_ATTRIBUTES>(),
            Action = DeviceDsmAction_Trim,
            Flags = 0,
            ParameterBlockOffset = 0,
            ParameterBlockLength = 0,
            DataSetRangesOffset = (uint)RangesOffset,
            DataSetRangesLength = (uint)(ranges.Length * rangeSize),
        };
        MemoryMarshal.Write(input, in header);
        MemoryMarshal.AsBytes(ranges).CopyTo(input.AsSpan(RangesOffset));
        return input;
    }
}
