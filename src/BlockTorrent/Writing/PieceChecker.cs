using System.Globalization;
using BlockTorrent.Buffers;
using BlockTorrent.Devices;
using BlockTorrent.Diagnostics;
using BlockTorrent.Manifest;

namespace BlockTorrent.Writing;

/// <summary>
/// Reads pieces back from a device and checks them against a manifest, on all cores: to resume an interrupted
/// deployment, to re-image a disk fetching only the pieces that differ, or to verify a finished one.
/// </summary>
public static class PieceChecker
{
    /// <summary>Checks pieces on a device against a manifest.</summary>
    /// <param name="manifest">The image's manifest.</param>
    /// <param name="device">The device to read; piece <c>i</c> is read at <see cref="IImageManifest.GetPieceOffset"/>.</param>
    /// <param name="options">Which pieces and how; <see langword="null"/> for <see cref="PieceCheckOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>Which pieces the device holds correctly.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A listed piece is not a piece of the image.</exception>
    public static async Task<PieceCheckResult> CheckAsync(IImageManifest manifest, IBlockDevice device, PieceCheckOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(device);
        options ??= PieceCheckOptions.Default;
        options.Validate();
        var valid = new PieceSet(manifest.PieceCount);
        var invalid = new PieceSet(manifest.PieceCount);
        int checkedCount = await CheckCoreAsync(manifest, device, options.Pieces, options.EffectiveParallelism, options.Progress, (piece, ok) => (ok ? valid : invalid).Add(piece), cancellationToken).ConfigureAwait(false);
        var invalidList = new int[invalid.Count];
        for (int p = 0, i = 0; p < manifest.PieceCount && i < invalidList.Length; p++)
        {
            if (invalid.Contains(p))
            {
                invalidList[i++] = p;
            }
        }

        return new PieceCheckResult(valid, checkedCount, invalidList);
    }

    /// <summary>Reads and checks pieces with <paramref name="parallelism"/> workers, reporting each to <paramref name="onChecked"/>.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="device">The device.</param>
    /// <param name="pieces">The pieces, or <see langword="null"/> for all.</param>
    /// <param name="parallelism">The number of workers.</param>
    /// <param name="progress">Receives the running count of checked pieces.</param>
    /// <param name="onChecked">Called once per piece, from any worker, with whether it is correct.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <param name="allHashes">Whether to check every hash of a hybrid torrent (see <see cref="PieceVerification"/>).</param>
    /// <returns>The number of pieces checked.</returns>
    internal static async Task<int> CheckCoreAsync(IImageManifest manifest, IBlockDevice device, IReadOnlyList<int>? pieces, int parallelism, IProgress<int>? progress, Action<int, bool> onChecked, CancellationToken cancellationToken, bool allHashes = false)
    {
        int total = pieces?.Count ?? manifest.PieceCount;
        if (pieces is not null)
        {
            for (int i = 0; i < pieces.Count; i++)
            {
                if ((uint)pieces[i] >= (uint)manifest.PieceCount)
                {
                    throw new ArgumentOutOfRangeException(nameof(pieces), pieces[i], string.Create(CultureInfo.InvariantCulture, $"Piece {pieces[i]} is not a piece of '{manifest.Name}', which has {manifest.PieceCount}."));
                }
            }
        }

        if (total == 0)
        {
            return 0;
        }

        using var pool = new AlignedBufferPool(manifest.PieceLength);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        int next = -1;
        int done = 0;
        var workers = new Task[Math.Clamp(parallelism, 1, total)];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(
                async () =>
                {
                    AlignedBuffer buffer = pool.Rent();
                    try
                    {
                        int i;
                        while ((i = Interlocked.Increment(ref next)) < total)
                        {
                            failed.Token.ThrowIfCancellationRequested();
                            int piece = pieces?[i] ?? i;
                            bool ok = await CheckPieceAsync(manifest, device, piece, buffer.Memory, failed.Token, allHashes).ConfigureAwait(false);
                            BlockTorrentMetrics.PiecesChecked.Add(1);
                            onChecked(piece, ok);
                            progress?.Report(Interlocked.Increment(ref done));
                        }
                    }
                    catch (Exception) when (!failed.IsCancellationRequested)
                    {
                        // One failed read stops the other workers; the first error is what the caller sees.
                        await failed.CancelAsync().ConfigureAwait(false);
                        throw;
                    }
                    finally
                    {
                        pool.Return(buffer);
                    }
                },
                failed.Token);
        }

        try
        {
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A worker failed and cancelled the rest: surface the failure, not the cancellations it caused.
            foreach (Task worker in workers)
            {
                if (worker.IsFaulted)
                {
                    await worker.ConfigureAwait(false);
                }
            }

            throw;
        }

        return total;
    }

    /// <summary>Reads one piece into <paramref name="buffer"/> and checks it.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="device">The device.</param>
    /// <param name="piece">A valid piece index.</param>
    /// <param name="buffer">At least one piece long.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <param name="allHashes">Whether to check every hash of a hybrid torrent (see <see cref="PieceVerification"/>).</param>
    /// <returns><see langword="true"/> when the device holds the piece's bytes.</returns>
    internal static async ValueTask<bool> CheckPieceAsync(IImageManifest manifest, IBlockDevice device, int piece, Memory<byte> buffer, CancellationToken cancellationToken, bool allHashes = false)
    {
        int size = manifest.GetPieceSize(piece);
        long offset = manifest.GetPieceOffset(piece);
        if (offset + size > device.Length)
        {
            return false;
        }

        Memory<byte> data = buffer[..size];
        int read = await device.ReadAsync(offset, data, cancellationToken).ConfigureAwait(false);
        if (read != size)
        {
            return false;
        }

        // An all-zero piece is recognised by its bytes: the same answer as its hash, for a fraction of the work.
        return manifest.IsZeroPiece(piece) ? !data.Span.ContainsAnyExcept((byte)0) : PieceVerification.Verify(manifest, piece, data.Span, allHashes);
    }
}
