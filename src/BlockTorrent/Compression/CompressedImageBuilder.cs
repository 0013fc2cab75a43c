using System.Globalization;
using System.Runtime.CompilerServices;
using System.Numerics;
using System.Security.Cryptography;
using BlockTorrent.Buffers;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Compression;

/// <summary>
/// Makes a seekable compressed image and its manifest: the raw image is cut into frames of
/// <see cref="CompressedImageOptions.FrameSize"/>, every frame that is not all zeros is compressed on its own (on all
/// cores), and the frames are packed whole into pieces, a piece padded with a zstd skippable frame when the next frame
/// does not fit. The manifest is an ordinary .torrent of the compressed file plus the layout (see
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
    // Raw bytes read, compressed and packed per step; bounds the builder's memory with the compressed frames of a step.
    private const int BatchBytes = 32 * 1024 * 1024;

    /// <summary>Gets the smallest piece length that holds a frame of <paramref name="frameSize"/> raw bytes whatever its content.</summary>
    /// <param name="frameSize">The raw frame size.</param>
    /// <returns>A power of two.</returns>
    public static int MinPieceLength(int frameSize) =>
        (int)BitOperations.RoundUpToPowerOf2((uint)(ZstdFrames.CompressBound(frameSize) + ZstdFrames.SkippableHeaderLength));

    /// <summary>Compresses an image file (or device) into a seekable compressed file and makes its manifest.</summary>
    /// <param name="imagePath">The raw image.</param>
    /// <param name="outputPath">The compressed file to write (replaced if it exists).</param>
    /// <param name="options">How to compress; <see langword="null"/> for the defaults.</param>
    /// <param name="manifestOptions">
    /// The manifest's options (versions, trackers, signing key and more); <see cref="ManifestBuilderOptions.PieceLength"/>
    /// 0 chooses one from the raw length, at least <see cref="MinPieceLength"/>. <see langword="null"/> for the defaults.
    /// </param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The manifest of the compressed file.</returns>
    /// <exception cref="ArgumentException">The options are invalid, the piece length is below <see cref="MinPieceLength"/>, or the image is empty.</exception>
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

        int frameSize = options.FrameSize;
        int pieceLength = manifestOptions.PieceLength != 0
            ? manifestOptions.PieceLength
            : Math.Max(ManifestBuilder.ChoosePieceLength(Math.Max(1, rawLength / 4)), MinPieceLength(frameSize));
        if (pieceLength < MinPieceLength(frameSize))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"PieceLength is {pieceLength}; frames of {frameSize} bytes need pieces of at least {MinPieceLength(frameSize)}."), nameof(manifestOptions));
        }

        Packed packed;
        var output = new FileStream(outputPath, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1024 * 1024, Options = FileOptions.Asynchronous | FileOptions.SequentialScan });
        await using (output.ConfigureAwait(false))
        {
            packed = await PackAsync(image, output, options, pieceLength, manifestOptions.MaxDegreeOfParallelism, cancellationToken).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        byte[] entry = CompressedImage.EncodeInfoEntry(rawLength, packed.RawSha256, frameSize, options.Level, packed.FramesPerPiece, packed.ZeroFrames);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(outputPath, manifestOptions, pieceLength, entry, cancellationToken).ConfigureAwait(false);
        if (manifest.PieceCount != packed.FramesPerPiece.Length)
        {
            throw new IOException($"'{outputPath}' changed while its manifest was made: it has {manifest.PieceCount} pieces, not the {packed.FramesPerPiece.Length} written.");
        }

        return manifest;
    }

    private static async Task<Packed> PackAsync(IBlockDevice image, Stream output, CompressedImageOptions options, int pieceLength, int parallelism, CancellationToken cancellationToken)
    {
        int frameSize = options.FrameSize;
        int level = options.Level;
        long rawLength = image.Length;
        int frameCount = checked((int)((rawLength + frameSize - 1) / frameSize));
        int batchFrames = Math.Max(1, BatchBytes / frameSize);
        int bound = ZstdFrames.CompressBound(frameSize);
        byte[] zeroFrames = new byte[(frameCount + 7) / 8];
        var framesPerPiece = new List<int>();
        byte[] padding = new byte[pieceLength];
        byte[][] compressed = new byte[batchFrames][];
        int[] sizes = new int[batchFrames];
        for (int i = 0; i < batchFrames; i++)
        {
            compressed[i] = new byte[bound];
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var raw = new AlignedBuffer(batchFrames * frameSize);
        var parallel = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = parallelism == 0 ? Environment.ProcessorCount : parallelism };
        int fill = 0;
        int framesInPiece = 0;
        for (int first = 0; first < frameCount; first += batchFrames)
        {
            int count = Math.Min(batchFrames, frameCount - first);
            long offset = (long)first * frameSize;
            int bytes = (int)Math.Min((long)count * frameSize, rawLength - offset);
            await RawImageHash.ReadExactlyAsync(image, offset, raw.Memory[..bytes], cancellationToken).ConfigureAwait(false);
            Task hashing = Task.Run(() => sha.AppendData(raw.Memory.Span[..bytes]), cancellationToken);
            Parallel.For(0, count, parallel, k =>
            {
                ReadOnlySpan<byte> frame = raw.Memory.Span.Slice(k * frameSize, Math.Min(frameSize, bytes - (k * frameSize)));
                sizes[k] = frame.ContainsAnyExcept((byte)0) ? ZstdFrames.Compress(frame, compressed[k], level) : 0;
            });
            await hashing.ConfigureAwait(false);

            for (int k = 0; k < count; k++)
            {
                int size = sizes[k];
                if (size == 0)
                {
                    int frame = first + k;
                    zeroFrames[frame >> 3] |= (byte)(0x80 >> (frame & 7));
                    continue;
                }

                // A frame joins the piece if it fits and leaves either nothing or room for a skippable frame.
                int rest = pieceLength - fill - size;
                if (rest < 0 || (rest > 0 && rest < ZstdFrames.SkippableHeaderLength))
                {
                    await PadAsync(output, padding, pieceLength - fill, cancellationToken).ConfigureAwait(false);
                    framesPerPiece.Add(framesInPiece);
                    fill = 0;
                    framesInPiece = 0;
                }

                await output.WriteAsync(compressed[k].AsMemory(0, size), cancellationToken).ConfigureAwait(false);
                fill += size;
                framesInPiece++;
            }

            options.Progress?.Report(new ManifestBuildProgress(offset + bytes, rawLength));
        }

        if (fill == 0)
        {
            // An image of zeros only: one piece of padding, so the torrent has a file.
            await PadAsync(output, padding, ZstdFrames.SkippableHeaderLength, cancellationToken).ConfigureAwait(false);
        }

        framesPerPiece.Add(framesInPiece);
        byte[] hash = sha.GetHashAndReset();
        return new Packed(hash, [.. framesPerPiece], zeroFrames);
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

    private sealed record Packed(byte[] RawSha256, int[] FramesPerPiece, byte[] ZeroFrames);
}
