using System.Diagnostics;
using System.Globalization;
using BlockTorrent.Benchmarks.Swarm;
using Options = BlockTorrent.Benchmarks.Swarm.CommandLine;
using BlockTorrent.Compression;
using BlockTorrent.Devices;

namespace BlockTorrent.Benchmarks.Manifest;

/// <summary>
/// What a seekable compressed image costs in CPU: making it, decoding every piece onto a raw target (in memory), and
/// re-encoding every piece from the raw image as a target does to serve it, each as CPU seconds of this process per
/// GiB of raw image and as wall-clock rate on all cores.
/// </summary>
/// <remarks>
/// Run: <c>dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- compression-speed [--size 256MiB]
/// [--dir /dev/shm] [--image FILE] [--level 3] [--chunk-size 64KiB] [--piece-size 512KiB]</c>. The image is
/// <c>CompressibleImage</c> (text, binary records, random bytes, zero runs), or <c>--image</c>'s file (cli-swarm.py's
/// <c>mixed</c> image, say); <c>--level</c>, <c>--chunk-size</c> and <c>--piece-size</c> are the builder's options,
/// for comparing layouts on one image.
/// </remarks>
internal static class CompressionSpeed
{
    private const double GiB = 1L << 30;

    public static async Task<int> RunAsync(string[] args)
    {
        var cl = new Options(args);
        long size = cl.Size("--size", 256L << 20);
        string directory = Path.Combine(cl.Text("--dir") ?? "/dev/shm", "blocktorrent-compression-speed-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        try
        {
            string imagePath = Path.Combine(directory, "image.raw");
            string compressedPath = imagePath + ".btz";
            string? given = cl.Text("--image");
            byte[] image = given is null ? Testing.CompressibleImage.Create(checked((int)size), seed: 42) : await File.ReadAllBytesAsync(given).ConfigureAwait(false);
            size = image.Length;
            await File.WriteAllBytesAsync(imagePath, image).ConfigureAwait(false);
            Console.WriteLine($"compression-speed: {Environment.ProcessorCount} cores, load {PairBenchmarks.LoadAverage()}, {Options.FormatSize(size)} {given ?? "compressible image"}");

            var options = new CompressedImageOptions { Level = cl.Int("--level", CompressedImageOptions.Default.Level), ChunkSize = (int)cl.Size("--chunk-size", CompressedImageOptions.Default.ChunkSize) };
            var manifestOptions = new BlockTorrent.Manifest.ManifestBuilderOptions { PieceLength = (int)cl.Size("--piece-size", 0) };
            var (manifest, make) = await MeasureAsync(() => CompressedImageBuilder.CreateAsync(imagePath, compressedPath, options, manifestOptions)).ConfigureAwait(false);
            CompressedImage layout = CompressedImage.FromManifest(manifest)!;
            byte[] compressed = await File.ReadAllBytesAsync(compressedPath).ConfigureAwait(false);
            Console.WriteLine($"ratio {layout.Ratio:F3}:1 ({compressed.Length} bytes, {manifest.PieceCount} pieces of {Options.FormatSize(manifest.PieceLength)}, level {layout.CompressionLevel}, {layout.ZeroChunkCount} of {layout.ChunkCount} chunks of {Options.FormatSize(layout.ChunkSize)} all zeros)");
            Report("make (compress, pack, hash)", size, make);

            var target = new MemoryBlockDevice(layout.RawLength);
            await using var device = new CompressedImageDevice(layout, target);
            var (_, decode) = await MeasureAsync(async () =>
            {
                // Sixteen pieces per gathered write, as the writer coalesces them: the device decodes them on all cores.
                const int Batch = 16;
                for (int first = 0; first < manifest.PieceCount; first += Batch)
                {
                    int count = Math.Min(Batch, manifest.PieceCount - first);
                    long offset = manifest.GetPieceOffset(first);
                    var pieces = new List<ReadOnlyMemory<byte>>();
                    for (int p = first; p < first + count; p++)
                    {
                        pieces.Add(compressed.AsMemory((int)manifest.GetPieceOffset(p), manifest.GetPieceSize(p)));
                    }

                    await device.WriteGatherAsync(offset, pieces).ConfigureAwait(false);
                }

                return 0;
            }).ConfigureAwait(false);
            if (!target.Contents.Span.SequenceEqual(image))
            {
                throw new InvalidDataException("the decoded image differs from the original");
            }

            Report("decode onto the raw target", size, decode);

            byte[] reencoded = new byte[compressed.Length];
            var (_, serve) = await MeasureAsync(async () =>
            {
                await Parallel.ForEachAsync(Enumerable.Range(0, manifest.PieceCount), async (p, token) =>
                    await device.ReadAsync(manifest.GetPieceOffset(p), reencoded.AsMemory((int)manifest.GetPieceOffset(p), manifest.GetPieceSize(p)), token).ConfigureAwait(false)).ConfigureAwait(false);
                return 0;
            }).ConfigureAwait(false);
            Console.WriteLine($"re-encoded file {(reencoded.AsSpan().SequenceEqual(compressed) ? "equals" : "DIFFERS FROM")} the original");
            Report("re-encode every piece (serving)", size, serve);
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<(T Result, (TimeSpan Wall, TimeSpan Cpu) Cost)> MeasureAsync<T>(Func<Task<T>> work)
    {
        using Process self = Process.GetCurrentProcess();
        TimeSpan cpu = self.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        T result = await work().ConfigureAwait(false);
        wall.Stop();
        self.Refresh();
        return (result, (wall.Elapsed, self.TotalProcessorTime - cpu));
    }

    private static void Report(string what, long rawBytes, (TimeSpan Wall, TimeSpan Cpu) cost) =>
        Console.WriteLine($"{what}: {cost.Cpu.TotalSeconds / (rawBytes / GiB):F2} CPU s per GiB raw; {rawBytes / cost.Wall.TotalSeconds / 1e6:F0} MB/s raw on all cores ({cost.Wall.TotalSeconds:F2} s)");
}
