using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BlockTorrent.Buffers;

namespace BlockTorrent.Tests.Buffers;

public sealed class AlignedBufferTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData((4 << 20) + 123)]
    public void ABufferIsPageAlignedZeroedWhenAskedAndWritableOverItsWholeLength(int length)
    {
        using var buffer = new AlignedBuffer(length, clear: true);

        Assert.Equal(0UL, AddressOf(buffer) % AlignedBuffer.Alignment);
        Assert.Equal(length, buffer.Memory.Length);
        Assert.True(buffer.Memory.Span.IndexOfAnyExcept((byte)0) < 0);
        buffer.Memory.Span.Fill(0xA5);
        Assert.True(buffer.Memory.Span.IndexOfAnyExcept((byte)0xA5) < 0);
    }

    [Fact]
    public void ADisposedBufferRefusesItsMemoryAndMayBeDisposedAgain()
    {
        var buffer = new AlignedBuffer(4 << 20);
        IDisposable disposable = buffer;

        disposable.Dispose();
        disposable.Dispose();

        Assert.Throws<ObjectDisposedException>(() => buffer.Memory.Span.Length);
    }

    [Fact]
    public void OnLinuxAPieceSizedBufferIsAdvisedToUseTransparentHugePages()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && Directory.Exists("/sys/kernel/mm/transparent_hugepage"), "Transparent huge pages are a Linux kernel feature, and this kernel has none.");
        using var buffer = new AlignedBuffer(4 << 20);

        // /proc/self/smaps lists each mapping's flags; "hg" is MADV_HUGEPAGE, which the kernel's default "madvise"
        // mode needs before it backs anonymous memory with huge pages.
        Assert.Contains("hg", FlagsOfMappingHolding(AddressOf(buffer)).Split(' '));
    }

    // The address of the buffer's first byte, without unsafe code: its offset from address zero.
    private static ulong AddressOf(AlignedBuffer buffer) =>
        (ulong)Unsafe.ByteOffset(ref Unsafe.NullRef<byte>(), ref MemoryMarshal.GetReference(buffer.Memory.Span));

    private static string FlagsOfMappingHolding(ulong address)
    {
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-', StringComparison.Ordinal);
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong start)
                && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong end))
            {
                inside = start <= address && address < end;
            }
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                return line["VmFlags:".Length..].Trim();
            }
        }

        throw new InvalidOperationException($"No mapping in /proc/self/smaps holds 0x{address:x}.");
    }
}
