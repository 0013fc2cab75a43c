using System.Buffers;

namespace BlockTorrent.Compression;

/// <summary>Reads of a compressed image's device adapters, which make pieces whole: any range, cut at piece boundaries.</summary>
internal static class WholePieces
{
    /// <summary>Reads <paramref name="buffer"/> at <paramref name="offset"/>, one whole piece at a time through <paramref name="readPiece"/>.</summary>
    /// <param name="offset">Where to start; inside the file.</param>
    /// <param name="buffer">What to fill; it ends at the file's end at most.</param>
    /// <param name="length">The file's length.</param>
    /// <param name="pieceLength">The piece length.</param>
    /// <param name="readPiece">Fills a whole piece (its index, a buffer of its size).</param>
    /// <param name="cancellationToken">Cancels between pieces.</param>
    /// <returns>The bytes read.</returns>
    public static async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, long length, int pieceLength, Func<int, Memory<byte>, CancellationToken, Task> readPiece, CancellationToken cancellationToken)
    {
        int total = 0;
        while (!buffer.IsEmpty && offset < length)
        {
            int piece = (int)(offset / pieceLength);
            long start = (long)piece * pieceLength;
            int size = (int)Math.Min(pieceLength, length - start);
            int within = (int)(offset - start);
            int count = Math.Min(size - within, buffer.Length);
            if (within == 0 && count == size)
            {
                await readPiece(piece, buffer[..size], cancellationToken).ConfigureAwait(false);
            }
            else
            {
                byte[] whole = ArrayPool<byte>.Shared.Rent(size);
                try
                {
                    await readPiece(piece, whole.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
                    whole.AsSpan(within, count).CopyTo(buffer.Span);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(whole);
                }
            }

            offset += count;
            buffer = buffer[count..];
            total += count;
        }

        return total;
    }
}
