using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using BlockTorrent.Manifest;
using static BlockTorrent.Benchmarks.BenchmarkSupport;

namespace BlockTorrent.Benchmarks.Manifest;

/// <summary>
/// The parts of manifest creation measured on this machine in one run, and the issue's target computed from them:
/// ManifestBuilder should reach at least 90% of min(source read rate, single-core SHA rate × cores).
/// </summary>
/// <remarks>
/// <para>
/// Run: <c>dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- manifest-speed [--size-mib 1024]
/// [--piece-kib 4096] [--rounds 3] [--dir /tmp]</c>.
/// </para>
/// <para>
/// Single-core rates hash a 64 MiB buffer of random data (cache-cold, as pieces arriving from a read are); the read
/// rate is <c>dd if=IMAGE of=/dev/null bs=16M</c> on the image in the page cache (the state right after the image is
/// written or read once) and with <c>iflag=direct</c> (the disk itself). The builder reads the image as a user's
/// call does, through <see cref="ManifestBuilder.CreateAsync(string, ManifestBuilderOptions?, CancellationToken)"/>.
/// </para>
/// </remarks>
internal static class ManifestSpeed
{
    private const int Leaf = 16 * 1024;

    public static async Task<int> RunAsync(string[] args)
    {
        long sizeMiB = Option(args, "--size-mib", 1024);
        int pieceLength = (int)Option(args, "--piece-kib", 4096) << 10;
        int rounds = (int)Option(args, "--rounds", 3);
        string root = OptionText(args, "--dir", Path.GetTempPath());
        string path = Path.Combine(root, "blocktorrent-manifest-speed-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".img");
        int cores = Environment.ProcessorCount;
        Console.WriteLine($"{cores} cores, load {File.ReadAllText("/proc/loadavg").Trim()}; {sizeMiB} MiB random image in {root}, {pieceLength >> 10} KiB pieces");
        try
        {
            byte[] data = GC.AllocateUninitializedArray<byte>(64 << 20, pinned: true);
            new Random(5).NextBytes(data);
            double sha1 = Rate(data, pieceLength, static (piece, _) => SHA1.HashData(piece, stackalloc byte[20]));
            double sha256Piece = Rate(data, pieceLength, static (piece, _) => SHA256.HashData(piece, stackalloc byte[32]));
            double leafOneShot = Rate(data, pieceLength, static (piece, _) =>
            {
                Span<byte> hash = stackalloc byte[32];
                for (int i = 0; i < piece.Length; i += Leaf)
                {
                    SHA256.HashData(piece.Slice(i, Leaf), hash);
                }
            });
            using var incremental = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            double leafReused = Rate(data, pieceLength, (piece, _) =>
            {
                Span<byte> hash = stackalloc byte[32];
                for (int i = 0; i < piece.Length; i += Leaf)
                {
                    incremental.AppendData(piece.Slice(i, Leaf));
                    incremental.GetHashAndReset(hash);
                }
            });
            int leaves = pieceLength / Leaf;
            double merkle = Rate(data, pieceLength, (piece, _) => MerkleTree.ComputeRoot(piece, leaves, stackalloc byte[32]));
            using var hasher = new PieceHasher();
            double merkleHasher = Rate(data, pieceLength, (piece, _) => hasher.ComputeRoot(piece, leaves, stackalloc byte[32]));
            double hybridHasher = Rate(data, pieceLength, (piece, _) => hasher.ComputeBoth(piece, leaves, stackalloc byte[32], stackalloc byte[20]));
            Console.WriteLine("single core (MB/s):");
            Console.WriteLine($"  SHA-1, one-shot per piece                   {sha1,7:F0}");
            Console.WriteLine($"  SHA-256, one-shot per piece                 {sha256Piece,7:F0}");
            Console.WriteLine($"  SHA-256 16 KiB leaves, one-shot per leaf    {leafOneShot,7:F0}");
            Console.WriteLine($"  SHA-256 16 KiB leaves, reused state         {leafReused,7:F0}");
            Console.WriteLine($"  merkle root per piece, MerkleTree           {merkle,7:F0}");
            Console.WriteLine($"  merkle root per piece, PieceHasher          {merkleHasher,7:F0}");
            Console.WriteLine($"  SHA-1 + merkle, one pass (PieceHasher)      {hybridHasher,7:F0}");

            WriteRandomImage(path, sizeMiB << 20);
            double cached = await DdReadAsync(path, direct: false).ConfigureAwait(false);
            double disk = await DdReadAsync(path, direct: true).ConfigureAwait(false);
            await DdReadAsync(path, direct: false).ConfigureAwait(false);
            Console.WriteLine($"read rate (MB/s): dd bs=16M from the page cache {cached:F0}; dd iflag=direct (the disk) {disk:F0}");

            double hybridSha = 1 / ((1 / sha1) + (1 / leafReused));
            foreach ((TorrentVersions versions, double sha) in new[] { (TorrentVersions.V1, sha1), (TorrentVersions.V2, leafReused), (TorrentVersions.Hybrid, hybridSha) })
            {
                var rates = new List<double>();
                for (int round = 0; round < rounds; round++)
                {
                    long start = Stopwatch.GetTimestamp();
                    await ManifestBuilder.CreateAsync(path, new ManifestBuilderOptions { PieceLength = pieceLength, Versions = versions }).ConfigureAwait(false);
                    rates.Add((sizeMiB << 20) / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e6);
                }

                double median = rates.Order().ElementAt(rates.Count / 2);
                double target = Math.Min(cached, sha * cores);
                Console.WriteLine($"ManifestBuilder {versions,-6}: median {median,6:F0} MB/s ({string.Join(", ", rates.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))}); min(read {cached:F0}, SHA {sha:F0} x {cores}) = {target:F0}; {median / target:P0} of it (goal >= 90%)");
            }

            return 0;
        }
        finally
        {
            File.Delete(path);
        }
    }

    // Hashes the buffer piece by piece for at least a second, best of three, and returns MB/s.
    private static double Rate(byte[] data, int pieceLength, Action<ReadOnlySpan<byte>, int> hash)
    {
        double best = 0;
        for (int trial = 0; trial < 3; trial++)
        {
            long bytes = 0;
            long start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(start).TotalSeconds < 1)
            {
                for (int offset = 0; offset + pieceLength <= data.Length; offset += pieceLength)
                {
                    hash(data.AsSpan(offset, pieceLength), offset);
                    bytes += pieceLength;
                }
            }

            best = Math.Max(best, bytes / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e6);
        }

        return best;
    }

    private static async Task<double> DdReadAsync(string path, bool direct)
    {
        long length = new FileInfo(path).Length;
        var info = new ProcessStartInfo("dd") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in new[] { $"if={path}", "of=/dev/null", "bs=16M" }.Concat(direct ? ["iflag=direct"] : []))
        {
            info.ArgumentList.Add(argument);
        }

        long start = Stopwatch.GetTimestamp();
        using Process process = Process.Start(info) ?? throw new InvalidOperationException("Could not start dd.");
        await process.WaitForExitAsync().ConfigureAwait(false);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dd failed: {await process.StandardError.ReadToEndAsync().ConfigureAwait(false)}");
        }

        return length / seconds / 1e6;
    }
}
