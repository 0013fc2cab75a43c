using BlockTorrent.Devices;
using BlockTorrent.Testing;
using BlockTorrent.Writing;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Writing;

public sealed class PieceWriterPropertyTests
{
    private const int PieceLength = 4096;
    private const byte Canary = 0xA5;

    /// <summary>
    /// Whatever mix of valid and corrupted commits arrives, in whatever order, and whatever zeroing powers the device
    /// has, with or without flushes behind the writes: once every piece has arrived intact, the device holds exactly the
    /// image, nothing after it changed, and every piece is durable after completion.
    /// </summary>
    [Fact]
    public void AnyOrderOfValidAndInvalidPiecesLeavesExactlyTheImageAndNothingElse() => Prop.ForAll(ArbMap.Default.ArbFor<Tuple<byte[], int[], bool[], byte, ushort>>(), t => AnyOrderOfValidAndInvalidPiecesLeavesExactlyTheImageAndNothingElseFor(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5)).CheckSeeded(maxTest: 150);

    private bool AnyOrderOfValidAndInvalidPiecesLeavesExactlyTheImageAndNothingElseFor(byte[] layout, int[] commits, bool[] corrupt, byte powers, ushort lastPiece)
    {
        if (layout.Length == 0)
        {
            return true;
        }

        string pieces = new([.. layout.Take(24).Select(b => "rzab"[b % 4])]);
        byte[] image = TestImages.Build(pieces, PieceLength, lastPieceLength: (lastPiece % PieceLength) + 1, seed: layout.Length);
        var manifest = new HashListManifest(image, PieceLength);
        byte[] contents = new byte[image.Length + (3 * PieceLength) + 17];
        Array.Fill(contents, Canary);
        var device = new MemoryBlockDevice(contents, new MemoryBlockDeviceOptions
        {
            CanZeroRange = (powers & 1) != 0,
            CanDiscard = (powers & 2) != 0,
            DiscardZeroesData = (powers & 4) != 0,
        });
        var options = new PieceWriterOptions
        {
            MaxInFlightBytes = 64 * 1024,
            VerificationWorkers = 1 + (powers % 3),
            FlushIntervalBytes = (powers & 16) != 0 ? PieceLength * (1 + (lastPiece % 4)) : 0,
        };

        RunAsync(manifest, device, options, image, commits, corrupt, zeroFirst: (powers & 8) != 0).GetAwaiter().GetResult();

        return contents.AsSpan(0, image.Length).SequenceEqual(image)
            && !contents.AsSpan(image.Length).ContainsAnyExcept(Canary);
    }

    private static async Task RunAsync(HashListManifest manifest, MemoryBlockDevice device, PieceWriterOptions options, byte[] image, int[] commits, bool[] corrupt, bool zeroFirst)
    {
        await using var writer = new PieceWriter(manifest, device, options);
        if (zeroFirst)
        {
            await writer.SatisfyZeroPiecesAsync();
        }

        var tasks = new List<Task<PieceWriteResult>>();
        for (int i = 0; i < commits.Length; i++)
        {
            int piece = (int)((uint)commits[i] % (uint)manifest.PieceCount);
            byte[] data = TestImages.Piece(image, PieceLength, piece).ToArray();
            if (i < corrupt.Length && corrupt[i])
            {
                data[(i * 31) % data.Length] ^= 0x40;
            }

            tasks.Add(writer.WriteAsync(piece, data, source: i));
        }

        for (int piece = manifest.PieceCount - 1; piece >= 0; piece--)
        {
            if (!manifest.IsZeroPiece(piece))
            {
                tasks.Add(writer.WriteAsync(piece, TestImages.Piece(image, PieceLength, piece)));
            }
        }

        await Task.WhenAll(tasks);
        await writer.SatisfyZeroPiecesAsync();
        var statistics = await writer.CompleteAsync();
        if (statistics.PiecesOnDevice != manifest.PieceCount)
        {
            throw new InvalidOperationException($"{statistics.PiecesOnDevice} of {manifest.PieceCount} pieces on the device.");
        }

        for (int piece = 0; piece < manifest.PieceCount; piece++)
        {
            if (!writer.IsFlushed(piece))
            {
                throw new InvalidOperationException($"Piece {piece} is not flushed after completion.");
            }
        }
    }
}
