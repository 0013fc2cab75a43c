using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Tests.Manifest;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// The manifest's block map end to end: zero and repeated 16 KiB blocks inside pieces never travel, and a map that
/// lies costs a refetch, never a wrong byte or a banned peer.
/// </summary>
public sealed class BlockMapDeployTests
{
    private const int B = BlockMap.BlockSize;

    [Fact]
    public async Task OnlyTheBlocksThatAreNeitherZeroNorRepeatedInsideTheirPieceAreDownloaded()
    {
        // Pieces of 8 blocks, no piece wholly zero or a copy of another, every copy inside its own piece.
        string[] pieces = ["rzzr0zzr", "rrz3z4zz", "r55555zz", "r6r7zz67", "zzrr8989", "zzzzzzzr", "rrrrzzzz", "zrzrzrzr"];
        byte[] image = BlockImages.Build(string.Join(' ', pieces), seed: 21, tail: 5000);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), new ManifestBuilderOptions { PieceLength = 8 * B, Name = "blocks.img" }, TestContext.Current.CancellationToken);
        Assert.Equal(0, manifest.ZeroPieceCount + manifest.DuplicatePieceCount);
        long fresh = pieces.Sum(p => p.Count(c => c == 'r')) * (long)B;

        var (target, result) = await LoopbackDeployTests.DeployFromOneSeedAsync(image, manifest);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.Equal(fresh + 5000, result.BytesDownloaded);
        Assert.Equal(image.Length - result.BytesDownloaded, result.BytesSatisfiedLocally);
        Assert.Equal(0, result.HashFailures);
    }

    [Fact]
    public async Task ABlockRepeatingAnotherPieceIsFetchedOnlyWhileThatPieceIsMissing()
    {
        // Copies across pieces are filled in when the piece they copy from is on the device when theirs starts.
        string[] pieces = ["rrrrzzzz", "0123rrzz", "zzzz4545", "r0r1r2r3", "67896789", "zrzrzrzr"];
        byte[] image = BlockImages.Build(string.Join(' ', pieces), seed: 8);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), new ManifestBuilderOptions { PieceLength = 8 * B, Name = "blocks.img" }, TestContext.Current.CancellationToken);
        long fresh = pieces.Sum(p => p.Count(c => c == 'r')) * (long)B;
        long copies = pieces.Sum(p => p.Count(char.IsAsciiDigit)) * (long)B;

        var (target, result) = await LoopbackDeployTests.DeployFromOneSeedAsync(image, manifest);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.InRange(result.BytesDownloaded, fresh, fresh + copies);
        Assert.Equal(image.Length - result.BytesDownloaded, result.BytesSatisfiedLocally);
        Assert.Equal(0, result.HashFailures);
    }

    [Fact]
    public async Task AManifestWhoseBlockMapLiesStillDeploysTheImageAndBlamesNoPeer()
    {
        string[] pieces = ["rrzzrrzz", "rrrrrrrr", "rzrzrzrz", "rrrrrrrr"];
        byte[] image = BlockImages.Build(string.Join(' ', pieces), seed: 4);
        TorrentManifest honest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), new ManifestBuilderOptions { PieceLength = 8 * B, Name = "blocks.img" }, TestContext.Current.CancellationToken);

        // The map is outside the info-hash, so anyone who hands out the .torrent can change it: here it says that a
        // block of random bytes in every piece is zero, and that one copies a block of another piece.
        var lie = new BlockMap.Builder();
        lie.Add(1, BlockMap.Zero);
        lie.Add(9, BlockMap.Zero);
        lie.Add(17, 0);
        lie.Add(25, BlockMap.Zero);
        TorrentManifest lying = honest.WithBlocks(lie.Build());

        var (target, result) = await LoopbackDeployTests.DeployFromOneSeedAsync(image, lying);

        Assert.Equal(image, target.Contents.ToArray());
        // Three failures would have banned the only seed (MaxHashFailuresPerPeer), and the deployment could not complete.
        Assert.InRange(result.HashFailures, 3, 4);
        Assert.True(result.BytesDownloaded >= image.Length, $"{result.BytesDownloaded} bytes downloaded");
    }
}
