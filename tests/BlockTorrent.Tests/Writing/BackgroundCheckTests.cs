using System.Collections.Concurrent;
using System.Security.Cryptography;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Writing;
using FsCheck.Fluent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Tests.Writing;

public sealed class BackgroundCheckTests
{
    private const int PieceLength = 16 * 1024;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PiecesMovedTowardTheEndOfTheDiskAreCopiedLocallyAndNeverWanted()
    {
        // Last month's disk: pieces 20..39 of the new image sat four pieces lower, and pieces 5, 50 and 60 changed.
        int[] old = [.. Enumerable.Range(0, 64)];
        for (int region = 16; region < 36; region++)
        {
            old[region] = region + 4;
        }

        old[5] = old[50] = old[60] = Junk;

        Outcome outcome = await ReimageAsync(64, old);

        Assert.True(outcome.BitExact, "the target does not hold the image");
        Assert.Empty(outcome.WrittenBeforeRead);
        Assert.Equal(outcome.NowhereOnDisk.Order(), outcome.Wanted.Order());
        Assert.Equal([5, 16, 17, 18, 19, 50, 60], outcome.Wanted.Order());
        Assert.Equal(16, outcome.Check.Copied);
    }

    [Fact]
    public async Task PiecesThatSwappedPlacesAreCopiedThroughMemoryNotFetched()
    {
        int[] old = [.. Enumerable.Range(0, 32)];
        (old[5], old[9]) = (9, 5);
        (old[10], old[11], old[12]) = (11, 12, 10);

        Outcome outcome = await ReimageAsync(32, old);

        Assert.True(outcome.BitExact, "the target does not hold the image");
        Assert.Empty(outcome.WrittenBeforeRead);
        Assert.Empty(outcome.Wanted);
        Assert.Equal(5, outcome.Check.Copied);
        Assert.Equal(27, outcome.Check.Found);
    }

    [Fact]
    public async Task PiecesMovedTowardTheStartAreTakenBackFromTheSwarmWhenTheirDownloadHasNotStarted()
    {
        // Pieces 10..19 sat three pieces higher (20..22 are lost): the check may find a piece missing before it reaches its bytes.
        int[] old = [.. Enumerable.Range(0, 32)];
        for (int region = 13; region < 23; region++)
        {
            old[region] = region - 3;
        }

        Outcome outcome = await ReimageAsync(32, old, fetchAtOnce: false);

        Assert.True(outcome.BitExact, "the target does not hold the image");
        Assert.Empty(outcome.WrittenBeforeRead);
        Assert.Equal([20, 21, 22], outcome.Fetched.Order());
        Assert.Equal(7, outcome.Check.Copied);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task AReimageGivenThePreviousManifestFetchesExactlyThePiecesNowhereOnTheDiskWhateverTheSpeedOfDiskAndLink(bool fetchAtOnce, bool readsWaitForFetches)
    {
        // Pieces 10..19 sat three pieces higher and 40..49 two lower (so the check meets some pieces missing before
        // their bytes, and some bytes before their regions); 20..22, 38 and 39 are lost, and 5, 30, 60 changed.
        int[] old = [.. Enumerable.Range(0, 64)];
        for (int region = 13; region < 23; region++)
        {
            old[region] = region - 3;
        }

        for (int region = 38; region < 48; region++)
        {
            old[region] = region + 2;
        }

        old[5] = old[30] = old[60] = Junk;

        // A fast link fetches at once; a slow one only after the check; slow reads wait for every fetch started.
        Outcome outcome = await ReimageAsync(64, old, fetchAtOnce, hint: Hint.Previous, readsWaitForFetches: readsWaitForFetches);

        Assert.True(outcome.BitExact, "the target does not hold the image");
        Assert.Empty(outcome.WrittenBeforeRead);
        Assert.Equal([5, 20, 21, 22, 30, 38, 39, 60], outcome.NowhereOnDisk.Order());
        Assert.Equal(outcome.NowhereOnDisk.Order(), outcome.Wanted.Order());
        Assert.Equal(outcome.NowhereOnDisk.Order(), outcome.Fetched.Order());
    }

    [Theory]
    [InlineData(Hint.OtherImage, true)]
    [InlineData(Hint.OtherImage, false)]
    [InlineData(Hint.ThisImage, true)]
    [InlineData(Hint.ThisImage, false)]
    public async Task AWrongPreviousManifestStillLeavesTheTargetBitExact(Hint hint, bool fetchAtOnce)
    {
        int[] old = [.. Enumerable.Range(0, 48)];
        for (int region = 13; region < 23; region++)
        {
            old[region] = region - 3;
        }

        (old[30], old[31]) = (31, 30);
        old[5] = old[40] = Junk;

        Outcome outcome = await ReimageAsync(48, old, fetchAtOnce, hint: hint);

        Assert.True(outcome.BitExact, "the target does not hold the image");
        Assert.Empty(outcome.WrittenBeforeRead);
        Assert.Subset(outcome.Fetched.ToHashSet(), outcome.NowhereOnDisk.ToHashSet());
        if (!fetchAtOnce)
        {
            // A piece wanted on a wrong hint is taken back when its bytes turn up before its download starts.
            Assert.Equal(outcome.NowhereOnDisk.Order(), outcome.Fetched.Order());
        }
    }

    [Fact]
    public void APreviousManifestFromAnotherPieceLengthIsNoHint()
    {
        TorrentManifest image = ManifestOf(new byte[4 * PieceLength], PieceLength);
        TorrentManifest previous = ManifestOf(new byte[4 * PieceLength], 2 * PieceLength);

        Assert.Null(PreviousImageHint.Create(image, previous));
        Assert.NotNull(PreviousImageHint.Create(image, image));
    }

    [Fact]
    public void WhateverLastMonthsDiskHeldTheReimageIsBitExactAndWritesNoRegionBeforeReadingIt() =>
        Prop.ForAll(
            PropertyCheck.ScenarioSeeds,
            seed =>
            {
                var random = new Random(seed);
                int count = random.Next(2, 40);
                int[] old = new int[count];
                for (int region = 0; region < count; region++)
                {
                    int roll = random.Next(10);
                    old[region] = roll < 4 ? region : roll < 8 ? random.Next(count) : roll < 9 ? Junk : Zero;
                }

                bool fetchAtOnce = random.Next(2) == 0;
                var hint = (Hint)random.Next(4);
                Outcome outcome = ReimageAsync(count, old, fetchAtOnce, seed, hint).GetAwaiter().GetResult();
                Assert.True(outcome.BitExact, "the target does not hold the image");
                Assert.Empty(outcome.WrittenBeforeRead);

                // What is nowhere on the disk is fetched; when the swarm is slower than the check, nothing else is.
                Assert.Subset(outcome.Fetched.ToHashSet(), outcome.NowhereOnDisk.ToHashSet());
                if (!fetchAtOnce)
                {
                    Assert.Equal(outcome.NowhereOnDisk.Order(), outcome.Fetched.Order());
                }
            }).CheckSeeded(maxTest: 60);

    [Fact]
    public async Task OnALinkFasterThanTheDiskAPieceFoundMissingWaitsForTheRegionThatHoldsItsBytes()
    {
        // Piece 20's bytes sit in region 40; pieces 0 and 40 changed. The disk reads one region per step and the
        // link carries a piece in one step: fetching piece 20 when region 20 is read would spend the link for nothing.
        Paced paced = await ReimagePacedAsync(stepsPerPiece: 1);

        Assert.True(paced.BitExact, "the target does not hold the image");
        Assert.Equal([0, 40], paced.Wanted.Select(w => w.Piece));
        Assert.Equal([0, 40], paced.Fetched);
        Assert.Equal(1, paced.Check.Copied);
    }

    [Fact]
    public async Task OnALinkSlowerThanTheDiskAPieceFoundMissingIsFetchedAtOnceThoughItsBytesMayBeFoundLater()
    {
        // The same disk, but a piece takes 16 steps on the link: the link is the bottleneck, so waiting to read
        // region 40 would cost more time than fetching piece 20 again.
        Paced paced = await ReimagePacedAsync(stepsPerPiece: 16);

        Assert.True(paced.BitExact, "the target does not hold the image");
        (int piece, int checkedThen) = Assert.Single(paced.Wanted, w => w.Piece == 20);
        Assert.InRange(checkedThen, 21, 40);
        Assert.Equal([0, 20, 40], paced.Fetched);
    }

    private const int Junk = -1;
    private const int Zero = -2;

    /// <summary>Which manifest the check is given as the previous image's.</summary>
    public enum Hint
    {
        /// <summary>None.</summary>
        None,

        /// <summary>The manifest of what the disk holds: a true hint.</summary>
        Previous,

        /// <summary>The manifest of an unrelated image of the same size.</summary>
        OtherImage,

        /// <summary>The new image's own: it claims every piece is in place.</summary>
        ThisImage,
    }

    private static TorrentManifest ManifestOf(byte[] bytes, int pieceLength) =>
        ManifestBuilder.CreateAsync(new MemoryBlockDevice(bytes), new ManifestBuilderOptions { PieceLength = pieceLength, Name = "reimage18.raw" }, Token).GetAwaiter().GetResult();

    /// <summary>
    /// Re-images 64 distinct pieces where region 0 holds junk, region 20 junk and region 40 piece 20's bytes, on a
    /// manual clock: the disk reads one region per 50 ms step, and the link carries a piece in
    /// <paramref name="stepsPerPiece"/> steps, its bytes arriving evenly over them.
    /// </summary>
    private static async Task<Paced> ReimagePacedAsync(int stepsPerPiece)
    {
        const int Pieces = 64;
        TimeSpan step = TimeSpan.FromMilliseconds(50);
        var random = new Random(20);
        byte[] image = new byte[Pieces * PieceLength];
        random.NextBytes(image);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), new ManifestBuilderOptions { PieceLength = PieceLength, Name = "paced.raw" }, Token);
        byte[] disk = (byte[])image.Clone();
        random.NextBytes(disk.AsSpan(0, PieceLength));
        random.NextBytes(disk.AsSpan(20 * PieceLength, PieceLength));
        image.AsSpan(20 * PieceLength, PieceLength).CopyTo(disk.AsSpan(40 * PieceLength));

        var clock = new FakeTimeProvider();
        var device = new SteppedDevice(new MemoryBlockDevice(disk), PieceLength);
        await using var writer = new PieceWriter(manifest, device);
        var swarm = new PacedSwarm(writer, image, stepsPerPiece);
        var check = new BackgroundCheck(manifest, device, writer, PieceContentIndex.For(manifest), swarm, NullLogger.Instance, parallelism: 1, clock);
        swarm.Check = check;
        Task running = check.RunAsync(Token);
        for (int region = 0; region < Pieces; region++)
        {
            clock.Advance(step);
            device.ReadOneMore();
            int expected = region + 1;
            await Eventually.TrueAsync(() => check.Checked == expected || running.IsFaulted, TimeSpan.FromSeconds(30), $"region {region} is checked", Token);
            await swarm.TickAsync();
        }

        await running.WaitAsync(TimeSpan.FromSeconds(30), Token);
        while (swarm.PiecesWanted > 0)
        {
            await swarm.TickAsync();
        }

        await writer.CompleteAsync(Token);
        bool bitExact = Enumerable.Range(0, Pieces).All(writer.HasPiece) && device.Contents.SequenceEqual(image);
        return new Paced(check, [.. swarm.Wanted], [.. swarm.Fetched], bitExact);
    }

    private sealed record Paced(BackgroundCheck Check, (int Piece, int CheckedThen)[] Wanted, int[] Fetched, bool BitExact);

    /// <summary>A link that carries one piece at a time, in a fixed number of steps the test takes.</summary>
    private sealed class PacedSwarm(PieceWriter writer, byte[] image, int stepsPerPiece) : ICheckTarget
    {
        private readonly Lock _sync = new();
        private readonly List<int> _queue = [];
        private int _current = -1;
        private int _progress;
        private long _bytes;

        public BackgroundCheck? Check { get; set; }

        public List<(int Piece, int CheckedThen)> Wanted { get; } = [];

        public List<int> Fetched { get; } = [];

        public long BytesDownloaded => Interlocked.Read(ref _bytes);

        public int PiecesWanted
        {
            get
            {
                lock (_sync)
                {
                    return _queue.Count + (_current >= 0 ? 1 : 0);
                }
            }
        }

        public void Want(int piece)
        {
            lock (_sync)
            {
                _queue.Add(piece);
                Wanted.Add((piece, Check!.Checked));
            }
        }

        public bool TryWithdraw(int piece)
        {
            lock (_sync)
            {
                return _queue.Remove(piece);
            }
        }

        public void OnDevice(int piece, bool found)
        {
        }

        public void CheckCompleted()
        {
        }

        /// <summary>One step of the link: the piece in flight gets its share of bytes, and is written on its last step.</summary>
        public async Task TickAsync()
        {
            int piece;
            lock (_sync)
            {
                if (_current < 0 && _queue.Count > 0)
                {
                    _current = _queue[0];
                    _queue.RemoveAt(0);
                    _progress = 0;
                }

                if (_current < 0)
                {
                    return;
                }

                piece = _current;
                _progress++;
            }

            Interlocked.Add(ref _bytes, PieceLength / stepsPerPiece);
            if (_progress < stepsPerPiece)
            {
                return;
            }

            PieceWriteResult result = await writer.WriteAsync(piece, image.AsMemory(piece * PieceLength, PieceLength));
            Assert.Equal(PieceWriteStatus.Written, result.Status);
            lock (_sync)
            {
                Fetched.Add(piece);
                _current = -1;
            }
        }
    }

    /// <summary>A disk whose first read of each region waits for the test to allow one more; later reads (copies) do not.</summary>
    private sealed class SteppedDevice(MemoryBlockDevice inner, int regionLength) : PassThroughDevice(inner)
    {
        private readonly SemaphoreSlim _reads = new(0);
        private readonly ConcurrentDictionary<long, bool> _read = new();

        public byte[] Contents => inner.Contents.ToArray();

        public void ReadOneMore() => _reads.Release();

        public override async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_read.TryAdd(offset / regionLength, true))
            {
                await _reads.WaitAsync(cancellationToken);
            }

            return await base.ReadAsync(offset, buffer, cancellationToken);
        }
    }

    /// <summary>
    /// Re-images a memory target whose regions hold the pieces <paramref name="old"/> names (of the new image, or
    /// junk, or zeros) with a check whose swarm fetches each wanted piece at once, or once the check is over.
    /// </summary>
    private static async Task<Outcome> ReimageAsync(int pieces, int[] old, bool fetchAtOnce = true, int seed = 7, Hint hint = Hint.None, bool readsWaitForFetches = false)
    {
        // The new image: distinct random pieces, the last one short; one all-zero piece and one duplicate when there is room.
        var random = new Random(seed);
        int length = ((pieces - 1) * PieceLength) + (PieceLength / 2);
        byte[] image = new byte[length];
        random.NextBytes(image);
        if (pieces > 4)
        {
            image.AsSpan(PieceLength, PieceLength).Clear();
            image.AsSpan(2 * PieceLength, PieceLength).CopyTo(image.AsSpan(3 * PieceLength));
        }

        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), new ManifestBuilderOptions { PieceLength = PieceLength, Name = "reimage18.raw" }, Token);
        byte[] disk = new byte[length];
        for (int region = 0; region < pieces; region++)
        {
            Span<byte> to = disk.AsSpan(region * PieceLength, manifest.GetPieceSize(region));
            int piece = old[region];
            if (piece == Junk)
            {
                random.NextBytes(to);
            }
            else if (piece >= 0 && manifest.GetPieceSize(piece) == to.Length)
            {
                image.AsSpan(piece * PieceLength, to.Length).CopyTo(to);
            }
            else if (piece >= 0)
            {
                random.NextBytes(to);
            }
        }

        var nowhere = new List<int>();
        for (int piece = 0; piece < pieces; piece++)
        {
            if (!manifest.IsZeroPiece(piece) && manifest.GetCanonicalPiece(piece) == piece
                && !Enumerable.Range(0, pieces).Any(r => manifest.GetPieceSize(r) == manifest.GetPieceSize(piece) && disk.AsSpan(r * PieceLength, manifest.GetPieceSize(r)).SequenceEqual(image.AsSpan(piece * PieceLength, manifest.GetPieceSize(piece)))))
            {
                nowhere.Add(piece);
            }
        }

        TorrentManifest? previous = hint switch
        {
            Hint.Previous => ManifestOf((byte[])disk.Clone(), PieceLength),
            Hint.OtherImage => ManifestOf(RandomNumberGenerator.GetBytes(length), PieceLength),
            Hint.ThisImage => manifest,
            _ => null,
        };
        PreviousImageHint? previousHint = previous is null ? null : PreviousImageHint.Create(manifest, previous);
        Assert.Equal(previous is null, previousHint is null);

        FetchingSwarm? swarm = null;
        var device = new ReadFirstDevice(new MemoryBlockDevice(disk), PieceLength, readsWaitForFetches ? () => swarm!.FetchesStartedAsync() : null);
        await using var writer = new PieceWriter(manifest, device);
        swarm = new FetchingSwarm(writer, image, fetchAtOnce);
        var check = new BackgroundCheck(manifest, device, writer, PieceContentIndex.For(manifest), swarm, NullLogger.Instance, parallelism: 3, hint: previousHint);
        await check.RunAsync(Token).WaitAsync(TimeSpan.FromSeconds(60), Token);
        await swarm.FetchRemainingAsync();
        await writer.CompleteAsync(Token);

        bool allThere = Enumerable.Range(0, pieces).All(writer.HasPiece);
        bool bitExact = allThere && device.Contents.SequenceEqual(image);
        return new Outcome(check, [.. swarm.Wanted], [.. swarm.Fetched], nowhere, [.. device.WrittenBeforeRead], bitExact);
    }

    private sealed record Outcome(BackgroundCheck Check, int[] Wanted, int[] Fetched, List<int> NowhereOnDisk, int[] WrittenBeforeRead, bool BitExact);

    /// <summary>A swarm that fetches a wanted piece from the image at once, or after the check, and takes it back when asked before then.</summary>
    private sealed class FetchingSwarm(PieceWriter writer, byte[] image, bool fetchAtOnce) : ICheckTarget
    {
        private readonly ConcurrentDictionary<int, Task> _fetching = new();
        private readonly HashSet<int> _wanted = [];
        private readonly ConcurrentDictionary<int, bool> _done = new();
        private long _bytes;

        public ConcurrentBag<int> Wanted { get; } = [];

        public ConcurrentBag<int> Fetched { get; } = [];

        public long BytesDownloaded => Interlocked.Read(ref _bytes);

        public int PiecesWanted
        {
            get
            {
                lock (_wanted)
                {
                    return _wanted.Count(p => !_done.ContainsKey(p));
                }
            }
        }

        public void Want(int piece)
        {
            Wanted.Add(piece);
            lock (_wanted)
            {
                _wanted.Add(piece);
            }

            if (fetchAtOnce)
            {
                _fetching[piece] = Task.Run(() => FetchAsync(piece));
            }
        }

        public bool TryWithdraw(int piece)
        {
            lock (_wanted)
            {
                return !_fetching.ContainsKey(piece) && _wanted.Remove(piece);
            }
        }

        public void OnDevice(int piece, bool found)
        {
        }

        public void CheckCompleted()
        {
        }

        /// <summary>Completes when every fetch started so far has: a disk read waiting on it sees a link faster than the disk.</summary>
        public Task FetchesStartedAsync() => Task.WhenAll(_fetching.Values);

        public async Task FetchRemainingAsync()
        {
            int[] left;
            lock (_wanted)
            {
                left = [.. _wanted.Where(p => !_fetching.ContainsKey(p))];
            }

            foreach (int piece in left)
            {
                await FetchAsync(piece);
            }

            await Task.WhenAll(_fetching.Values);
        }

        private async Task FetchAsync(int piece)
        {
            Fetched.Add(piece);
            int size = writer.Manifest.GetPieceSize(piece);
            PieceWriteResult result = await writer.WriteAsync(piece, image.AsMemory(piece * PieceLength, size));
            Assert.NotEqual(PieceWriteStatus.HashMismatch, result.Status);
            Interlocked.Add(ref _bytes, size);
            _done[piece] = true;
        }
    }

    /// <summary>Records every write that touches a piece-aligned region before that region was read.</summary>
    private sealed class ReadFirstDevice(MemoryBlockDevice inner, int regionLength, Func<Task>? beforeRead = null) : PassThroughDevice(inner)
    {
        private readonly ConcurrentDictionary<long, bool> _read = new();

        public ConcurrentBag<int> WrittenBeforeRead { get; } = [];

        public byte[] Contents => inner.Contents.ToArray();

        public override ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            beforeRead is null ? ReadNowAsync(offset, buffer, cancellationToken) : ReadLaterAsync(offset, buffer, cancellationToken);

        private ValueTask<int> ReadNowAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
        {
            for (long region = offset / regionLength; region * regionLength < offset + buffer.Length; region++)
            {
                _read[region] = true;
            }

            return base.ReadAsync(offset, buffer, cancellationToken);
        }

        private async ValueTask<int> ReadLaterAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
        {
            await beforeRead!().WaitAsync(cancellationToken);
            return await ReadNowAsync(offset, buffer, cancellationToken);
        }

        public override ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            Touch(offset, data.Length);
            return base.WriteAsync(offset, data, cancellationToken);
        }

        public override ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
        {
            Touch(offset, buffers.Sum(b => (long)b.Length));
            return base.WriteGatherAsync(offset, buffers, cancellationToken);
        }

        public override ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default)
        {
            Touch(offset, length);
            return base.ZeroRangeAsync(offset, length, cancellationToken);
        }

        public override ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default)
        {
            Touch(offset, length);
            return base.DiscardAsync(offset, length, cancellationToken);
        }

        private void Touch(long offset, long length)
        {
            for (long region = offset / regionLength; region * regionLength < offset + length; region++)
            {
                if (!_read.ContainsKey(region))
                {
                    WrittenBeforeRead.Add((int)region);
                }
            }
        }
    }
}
