using System.Buffers;

namespace BlockTorrent.Tests.Wire;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s, the way a pipe hands out data that arrived in pieces.</summary>
internal static class Segments
{
    /// <summary>Cuts <paramref name="data"/> at the given offsets (any order, out-of-range ones ignored).</summary>
    public static ReadOnlySequence<byte> Create(byte[] data, IEnumerable<int> cuts)
    {
        int[] points = cuts.Where(c => c > 0 && c < data.Length).Distinct().Order().ToArray();
        if (points.Length == 0)
        {
            return new ReadOnlySequence<byte>(data);
        }

        var first = new Segment(data.AsMemory(0, points[0]), 0);
        Segment last = first;
        int start = points[0];
        foreach (int point in points.Skip(1).Append(data.Length))
        {
            last = last.Append(data.AsMemory(start, point - start));
            start = point;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
