using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using BlockTorrent.Buffers;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Compression;

/// <summary>
/// Makes a seekable compressed image and its manifest: the raw image is cut into chunks of
/// <see cref="CompressedImageOptions.ChunkSize"/>, all-zero chunks are left out, and the rest (the image's data) is cut
/// into consecutive ranges, each compressed into one zstd frame that fills a piece as closely as it can, padded with a
/// zstd skippable frame. The manifest is an ordinary .torrent of the compressed file plus the layout (see
/// <see cref="CompressedImage"/>), so every client can seed the file and a BlockTorrent target decodes each verified
/// piece straight to its raw offsets.
/// </summary>
/// <example>
/// <code>
/// TorrentManifest manifest = await CompressedImageBuilder.CreateAsync("disk.img", "disk.img.btz");
/// await manifest.SaveAsync("disk.img.btz.torrent");
/// // A target: await client.DeployAsync(manifest, device) decodes onto the raw device.
/// </code>
/// </example>
public static class CompressedImageBuilder
{
    // Raw bytes read and scanned for zero chunks per step; with the data pending for the next piece, the builder's memory.
    private const int BatchBytes = 32 * 1024 * 1024;

    /// <summary>Compresses an image file (or device) into a seekable compressed file and makes its manifest.</summary>
    /// <param name="imagePath">The raw image.</param>
    /// <param name="outputPath">The compressed file to write (replaced if it exists).</param>
    /// <param name="options">How to compress; <see langword="null"/> for the defaults.</param>
    /// <param name="manifestOptions">
    /// The manifest's options (versions, trackers, signing key and more); <see cref="ManifestBuilderOptions.PieceLength"/>
    /// 0 chooses one from the raw length, as for a raw image of a quarter of its size. <see langword="null"/> for the defaults.
    /// </param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The manifest of the compressed file.</returns>
    /// <exception cref="ArgumentException">The options are invalid or the image is empty.</exception>
    /// <exception cref="IOException">The image cannot be read or the output written.</exception>
    public static async Task<TorrentManifest> CreateAsync(string imagePath, string outputPath, CompressedImageOptions? options = null, ManifestBuilderOptions? manifestOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imagePath);
        ArgumentNullException.ThrowIfNull(outputPath);
        options ??= CompressedImageOptions.Default;
        options.Validate();
        manifestOptions ??= ManifestBuilderOptions.Default;
        manifestOptions.Validate();

        FileBlockDevice image = FileBlockDevice.Open(imagePath, new FileBlockDeviceOptions { ReadOnly = true });
        await using ConfiguredAsyncDisposable imageScope = image.ConfigureAwait(false);
        long rawLength = image.Length;
        if (rawLength <= 0)
        {
            throw new ArgumentException($"The image '{imagePath}' is empty; there is nothing to compress.", nameof(imagePath));
        }

        int pieceLength = manifestOptions.PieceLength != 0
            ? manifestOptions.PieceLength
            : ManifestBuilder.ChoosePieceLength(Math.Max(1, rawLength / 4));

        Packed packed;
        var output = new FileStream(outputPath, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1024 * 1024, Options = FileOptions.Asynchronous | FileOptions.SequentialScan });
        await using (output.ConfigureAwait(false))
        {
            packed = await PackAsync(image, output, options, pieceLength, cancellationToken).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        byte[] entry = CompressedImage.EncodeInfoEntry(rawLength, packed.RawSha256, options.ChunkSize, options.Level, packed.RawPerPiece, packed.ZeroChunks);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(outputPath, manifestOptions, pieceLength, entry, cancellationToken).ConfigureAwait(false);
        if (manifest.PieceCount != packed.RawPerPiece.Length)
        {
            throw new IOException($"'{outputPath}' changed while its manifest was made: it has {manifest.PieceCount} pieces, not the {packed.RawPerPiece.Length} written.");
        }

        return manifest;
    }

    private static async Task<Packed> PackAsync(IBlockDevice image, Stream output, CompressedImageOptions options, int pieceLength, CancellationToken cancellationToken)
    {
        int chunkSize = options.ChunkSize;
        long rawLength = image.Length;
        int chunkCount = checked((int)((rawLength + chunkSize - 1) / chunkSize));
        int batchChunks = Math.Max(1, BatchBytes / chunkSize);
        int maxRaw = CompressedImage.MaxPieceRawLength(pieceLength);
        byte[] zeroChunks = new byte[(chunkCount + 7) / 8];
        var rawPerPiece = new List<int>();
        byte[] padding = new byte[pieceLength];

        // Data read but not yet in a piece: pieces are cut from its front once it holds the most one piece may take.
        byte[] pending = new byte[maxRaw + (batchChunks * chunkSize)];
        int pendingLength = 0;
        using var fitter = new PieceFitter(pieceLength, options.Level);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var raw = new AlignedBuffer(batchChunks * chunkSize);
        for (int first = 0; first < chunkCount; first += batchChunks)
        {
            int count = Math.Min(batchChunks, chunkCount - first);
            long offset = (long)first * chunkSize;
            int bytes = (int)Math.Min((long)count * chunkSize, rawLength - offset);
            await RawImageHash.ReadExactlyAsync(image, offset, raw.Memory[..bytes], cancellationToken).ConfigureAwait(false);
            Task hashing = Task.Run(() => sha.AppendData(raw.Memory.Span[..bytes]), cancellationToken);
            for (int k = 0; k < count; k++)
            {
                ReadOnlySpan<byte> chunk = raw.Memory.Span.Slice(k * chunkSize, Math.Min(chunkSize, bytes - (k * chunkSize)));
                if (chunk.ContainsAnyExcept((byte)0))
                {
                    chunk.CopyTo(pending.AsSpan(pendingLength));
                    pendingLength += chunk.Length;
                }
                else
                {
                    int index = first + k;
                    zeroChunks[index >> 3] |= (byte)(0x80 >> (index & 7));
                }
            }

            await hashing.ConfigureAwait(false);
            int cut = 0;
            while (pendingLength - cut >= maxRaw)
            {
                cut += await WritePieceAsync(output, fitter, pending.AsMemory(cut, pendingLength - cut), final: false, pieceLength, padding, rawPerPiece, cancellationToken).ConfigureAwait(false);
            }

            pending.AsSpan(cut, pendingLength - cut).CopyTo(pending);
            pendingLength -= cut;
            options.Progress?.Report(new ManifestBuildProgress(offset + bytes, rawLength));
        }

        int done = 0;
        while (done < pendingLength)
        {
            done += await WritePieceAsync(output, fitter, pending.AsMemory(done, pendingLength - done), final: true, pieceLength, padding, rawPerPiece, cancellationToken).ConfigureAwait(false);
        }

        if (rawPerPiece.Count == 0)
        {
            // An image of zeros only: one piece of padding, so the torrent has a file.
            await PadAsync(output, padding, ZstdFrames.SkippableHeaderLength, cancellationToken).ConfigureAwait(false);
            rawPerPiece.Add(0);
        }

        byte[] hash = sha.GetHashAndReset();
        return new Packed(hash, [.. rawPerPiece], zeroChunks);
    }

    /// <summary>Writes the next piece, cut from the front of <paramref name="data"/>.</summary>
    /// <returns>The data bytes the piece holds.</returns>
    private static async Task<int> WritePieceAsync(Stream output, PieceFitter fitter, ReadOnlyMemory<byte> data, bool final, int pieceLength, byte[] padding, List<int> rawPerPiece, CancellationToken cancellationToken)
    {
        (int rawLength, int frameLength) = fitter.Fit(data.Span, final);
        await output.WriteAsync(fitter.Frame.AsMemory(0, frameLength), cancellationToken).ConfigureAwait(false);
        if (!(final && rawLength == data.Length))
        {
            await PadAsync(output, padding, pieceLength - frameLength, cancellationToken).ConfigureAwait(false);
        }

        rawPerPiece.Add(rawLength);
        return rawLength;
    }

    private static ValueTask PadAsync(Stream output, byte[] padding, int length, CancellationToken cancellationToken)
    {
        if (length == 0)
        {
            return ValueTask.CompletedTask;
        }

        ZstdFrames.WritePadding(padding.AsSpan(0, length));
        return output.WriteAsync(padding.AsMemory(0, length), cancellationToken);
    }

    private sealed record Packed(byte[] RawSha256, int[] RawPerPiece, byte[] ZeroChunks);
}
