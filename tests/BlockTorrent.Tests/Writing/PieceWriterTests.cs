using BlockTorrent.Devices;
using BlockTorrent.Testing;
using BlockTorrent.Writing;

namespace BlockTorrent.Tests.Writing;

public sealed class PieceWriterTests
{
    private const int PieceLength = 64 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PiecesCommittedInShuffledOrderLandAtTheirOffsets()
    {
        byte[] image = TestImages.Build("rrrrrrrrrrrr", lastPieceLength: 1000);
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length);
        await using var writer = new PieceWriter(manifest, device);

        int[] order = Enumerable.Range(0, manifest.PieceCount).ToArray();
        new Random(7).Shuffle(order);
        var results = await Task.WhenAll(order.Select(p => writer.WriteAsync(p, TestImages.Piece(image, PieceLength, p), cancellationToken: Token)));
        var statistics = await writer.CompleteAsync(Token);

        Assert.All(results, r => Assert.Equal(PieceWriteStatus.Written, r.Status));
        Assert.Equal(image, device.Contents.ToArray());
        Assert.Equal(manifest.PieceCount, statistics.PiecesOnDevice);
        Assert.Equal(manifest.PieceCount, writer.PiecesWritten);
    }

    [Fact]
    public async Task ACorruptedPieceNeverReachesTheDevice()
    {
        byte[] image = TestImages.Build("rrr");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length);
        await using var writer = new PieceWriter(manifest, device);
        byte[] corrupted = TestImages.Piece(image, PieceLength, 1).ToArray();
        corrupted[12345] ^= 0x01;
        object peer = "peer 10.0.0.9:6881";

        var result = await writer.WriteAsync(1, corrupted, peer, Token);

        Assert.Equal(new PieceWriteResult(1, PieceWriteStatus.HashMismatch, peer, 0), result);
        Assert.False(writer.HasPiece(1));
        Assert.Equal(0, device.WriteCount);
        Assert.Equal(1, writer.GetStatistics().PiecesRejected);
    }

    [Fact]
    public async Task APieceRejectedOnceIsAcceptedWhenItsRightBytesArrive()
    {
        byte[] image = TestImages.Build("rr");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length);
        await using var writer = new PieceWriter(manifest, device);
        byte[] corrupted = new byte[PieceLength];

        await writer.WriteAsync(0, corrupted, cancellationToken: Token);
        var result = await writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);

        Assert.Equal(PieceWriteStatus.Written, result.Status);
        Assert.Equal(image.AsSpan(0, PieceLength), device.Contents.Span[..PieceLength]);
    }

    [Fact]
    public async Task ARejectedPieceIsLoggedWithItsSource()
    {
        byte[] image = TestImages.Build("r");
        var manifest = new HashListManifest(image, PieceLength);
        var logger = new ListLogger();
        await using var writer = new PieceWriter(manifest, new MemoryBlockDevice(image.Length), logger: logger);

        await writer.WriteAsync(0, new byte[PieceLength], "the bad peer", Token);

        var entry = Assert.Single(logger.Entries, e => e.EventId == 4000);
        Assert.Contains("the bad peer", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADuplicatedPieceIsWrittenAtEveryOffsetFromOneCommit()
    {
        byte[] image = TestImages.Build("rarara");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length);
        await using var writer = new PieceWriter(manifest, device);

        var result = await writer.WriteAsync(1, TestImages.Piece(image, PieceLength, 1), cancellationToken: Token);

        Assert.Equal(3, result.CopiesWritten);
        Assert.True(writer.HasPiece(1) && writer.HasPiece(3) && writer.HasPiece(5));
        Assert.Equal(image.AsSpan(5 * PieceLength), device.Contents.Span[(5 * PieceLength)..]);
    }

    [Fact]
    public async Task ANonCanonicalDuplicateAlsoFillsItsWholeGroup()
    {
        byte[] image = TestImages.Build("aa");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length);
        await using var writer = new PieceWriter(manifest, device);

        var result = await writer.WriteAsync(1, TestImages.Piece(image, PieceLength, 1), cancellationToken: Token);

        Assert.Equal(2, result.CopiesWritten);
        Assert.Equal(image, device.Contents.ToArray());
    }

    [Fact]
    public async Task APieceAlreadyOnTheDeviceIsNotWrittenAgain()
    {
        byte[] image = TestImages.Build("raa");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length);
        await using var writer = new PieceWriter(manifest, device);
        await writer.WriteAsync(1, TestImages.Piece(image, PieceLength, 1), cancellationToken: Token);
        long writes = device.WriteCount;

        var again = await writer.WriteAsync(2, TestImages.Piece(image, PieceLength, 2), cancellationToken: Token);

        Assert.Equal(PieceWriteStatus.AlreadyWritten, again.Status);
        Assert.Equal(writes, device.WriteCount);
    }

    [Fact]
    public async Task WrongBytesForAPieceAlreadyWrittenAreStillReportedAsAMismatch()
    {
        byte[] image = TestImages.Build("r");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length);
        await using var writer = new PieceWriter(manifest, device);
        await writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);

        var result = await writer.WriteAsync(0, new byte[PieceLength], "liar", Token);

        Assert.Equal(PieceWriteStatus.HashMismatch, result.Status);
        Assert.Equal(image, device.Contents.ToArray());
    }

    [Fact]
    public async Task TheSamePieceCommittedTwiceAtOnceIsWrittenOnce()
    {
        byte[] image = TestImages.Build("rr");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length);
        await using var writer = new PieceWriter(manifest, device);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token)));

        Assert.Single(results, r => r.Status == PieceWriteStatus.Written);
        Assert.Equal(7, results.Count(r => r.Status == PieceWriteStatus.AlreadyWritten));
        Assert.Equal(1, device.WriteCount);
    }

    [Fact]
    public async Task ZeroPiecesAreZeroedOnTheDeviceWithoutWritingData()
    {
        byte[] image = TestImages.Build("rzzrz");
        var manifest = new HashListManifest(image, PieceLength);
        byte[] garbage = new byte[image.Length];
        Array.Fill(garbage, (byte)0xEE);
        var device = new InterceptingDevice(new MemoryBlockDevice(garbage));
        await using var writer = new PieceWriter(manifest, device);

        int satisfied = await writer.SatisfyZeroPiecesAsync(Token);

        Assert.Equal(3, satisfied);
        Assert.Equal(2, device.ZeroRangeCalls); // pieces 1-2 as one run, then piece 4
        Assert.Equal(0, device.Writes);
        Assert.True(garbage.AsSpan(PieceLength, 2 * PieceLength).IndexOfAnyExcept((byte)0) < 0);
        Assert.True(writer.HasPiece(1) && writer.HasPiece(2) && writer.HasPiece(4));
    }

    [Fact]
    public async Task ZeroPiecesAreDiscardedWhenDiscardZeroesDataAndZeroRangeIsMissing()
    {
        byte[] image = TestImages.Build("zr");
        var manifest = new HashListManifest(image, PieceLength);
        byte[] garbage = new byte[image.Length];
        Array.Fill(garbage, (byte)0xEE);
        var device = new InterceptingDevice(new MemoryBlockDevice(garbage, new MemoryBlockDeviceOptions { CanZeroRange = false, CanDiscard = true, DiscardZeroesData = true }));
        await using var writer = new PieceWriter(manifest, device);

        await writer.SatisfyZeroPiecesAsync(Token);

        Assert.Equal(1, device.DiscardCalls);
        Assert.True(garbage.AsSpan(0, PieceLength).IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public async Task ZeroPiecesAreWrittenAsZerosWhenDiscardDoesNotZero()
    {
        byte[] image = TestImages.Build("zzr");
        var manifest = new HashListManifest(image, PieceLength);
        byte[] garbage = new byte[image.Length];
        Array.Fill(garbage, (byte)0xEE);
        var device = new InterceptingDevice(new MemoryBlockDevice(garbage, new MemoryBlockDeviceOptions { CanZeroRange = false, CanDiscard = true, DiscardZeroesData = false }));
        await using var writer = new PieceWriter(manifest, device);

        await writer.SatisfyZeroPiecesAsync(Token);

        Assert.Equal(0, device.DiscardCalls);
        Assert.Equal(1, device.Writes);
        Assert.True(garbage.AsSpan(0, 2 * PieceLength).IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public async Task ZeroPiecesAreSkippedOnADeviceKnownToBeZeroed()
    {
        byte[] image = TestImages.Build("zrz");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new InterceptingDevice(new MemoryBlockDevice(image.Length));
        await using var writer = new PieceWriter(manifest, device, new PieceWriterOptions { DeviceIsZeroed = true });

        int satisfied = await writer.SatisfyZeroPiecesAsync(Token);

        Assert.Equal(2, satisfied);
        Assert.Equal(0, device.Writes + device.ZeroRangeCalls + device.DiscardCalls);
    }

    [Fact]
    public async Task ZeroPiecesAreSkippedOnAFreshlyCreatedImageFile()
    {
        using var dir = new TempDirectory();
        byte[] image = TestImages.Build("zrz");
        var logger = new ListLogger();
        await using var device = FileBlockDevice.Create(dir.File("new.img"), image.Length);
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), device, logger: logger);

        await writer.SatisfyZeroPiecesAsync(Token);

        Assert.Contains(logger.Entries, e => e.EventId == 4002 && e.Message.Contains("known zeroed", StringComparison.Ordinal));
        Assert.True(device.IsKnownZeroed);
    }

    [Fact]
    public async Task AnOutOfRangePieceIsRefusedAndNothingIsWritten()
    {
        byte[] image = TestImages.Build("rr");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length + PieceLength);
        await using var writer = new PieceWriter(manifest, device);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => writer.WriteAsync(2, new byte[PieceLength], cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await writer.RentAsync(-1, Token));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.HasPiece(2));
        Assert.Equal(0, device.WriteCount);
    }

    [Fact]
    public async Task APieceOfTheWrongLengthIsRefused()
    {
        byte[] image = TestImages.Build("rr", lastPieceLength: 100);
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length);
        await using var writer = new PieceWriter(manifest, device);

        await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteAsync(1, new byte[PieceLength], cancellationToken: Token));
        Assert.Equal(0, device.WriteCount);
    }

    [Fact]
    public async Task TheLastPiecesBufferIsExactlyItsLength()
    {
        byte[] image = TestImages.Build("rr", lastPieceLength: 100);
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), new MemoryBlockDevice(image.Length));

        using var buffer = await writer.RentAsync(1, Token);

        Assert.Equal(100, buffer.Memory.Length);
    }

    [Fact]
    public async Task ADeviceShorterThanTheImageIsRefused()
    {
        byte[] image = TestImages.Build("rr");
        var device = new MemoryBlockDevice(image.Length - 1);

        var error = Assert.Throws<ArgumentException>(() => new PieceWriter(new HashListManifest(image, PieceLength), device));

        Assert.Contains("shorter than the image", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFailingWriteFailsTheCommitAndLeavesThePieceUnwritten()
    {
        byte[] image = TestImages.Build("rrr");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new InterceptingDevice(new MemoryBlockDevice(image.Length))
        {
            BeforeWrite = (n, _, _) => n == 2 ? throw new IOException("the disk said no") : Task.CompletedTask,
        };
        await using var writer = new PieceWriter(manifest, device);

        await writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);
        var error = await Assert.ThrowsAsync<IOException>(() => writer.WriteAsync(1, TestImages.Piece(image, PieceLength, 1), cancellationToken: Token));
        await writer.WriteAsync(2, TestImages.Piece(image, PieceLength, 2), cancellationToken: Token);

        Assert.Equal("the disk said no", error.Message);
        Assert.True(writer.HasPiece(0));
        Assert.False(writer.HasPiece(1));
        Assert.True(writer.HasPiece(2));
        var completion = await Assert.ThrowsAsync<IOException>(() => writer.CompleteAsync(Token));
        Assert.Same(error, completion.InnerException);
    }

    [Fact]
    public async Task APieceWhoseWriteFailedCanBeWrittenAgain()
    {
        byte[] image = TestImages.Build("rr");
        var manifest = new HashListManifest(image, PieceLength);
        var memory = new MemoryBlockDevice(image.Length);
        var device = new InterceptingDevice(memory)
        {
            BeforeWrite = (n, _, _) => n == 1 ? throw new IOException("transient") : Task.CompletedTask,
        };
        await using var writer = new PieceWriter(manifest, device);

        await Assert.ThrowsAsync<IOException>(() => writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token));
        var retry = await writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);
        await writer.WriteAsync(1, TestImages.Piece(image, PieceLength, 1), cancellationToken: Token);
        var statistics = await writer.CompleteAsync(Token);

        Assert.Equal(PieceWriteStatus.Written, retry.Status);
        Assert.Equal(1, statistics.WriteFailures);
        Assert.Equal(image, memory.Contents.ToArray());
    }

    [Fact]
    public async Task RentWaitsWhileTheBudgetIsSpentAndResumesWhenAPieceIsWritten()
    {
        byte[] image = TestImages.Build("rrrr");
        var manifest = new HashListManifest(image, PieceLength);
        await using var writer = new PieceWriter(manifest, new MemoryBlockDevice(image.Length), new PieceWriterOptions { MaxInFlightBytes = 2 * PieceLength });
        PieceBuffer first = await writer.RentAsync(0, Token);
        PieceBuffer second = await writer.RentAsync(1, Token);

        ValueTask<PieceBuffer> third = writer.RentAsync(2, Token);
        Assert.False(third.IsCompleted);
        TestImages.Piece(image, PieceLength, 0).CopyTo(first.Memory);
        await writer.CommitAsync(first, cancellationToken: Token);
        using PieceBuffer thirdBuffer = await third.AsTask().WaitAsync(Timeout, Token);

        Assert.Equal(2, thirdBuffer.Piece);
        second.Dispose();
    }

    [Theory]
    [InlineData(16)]
    [InlineData(128)]
    public async Task AWriterAllocatesNoMoreBuffersThanItsBudgetHoweverManyPiecesPassThroughIt(int pieces)
    {
        byte[] image = TestImages.Build(new string('r', pieces), pieceLength: 16 * 1024);
        var manifest = new HashListManifest(image, 16 * 1024);
        var device = new MemoryBlockDevice(image.Length);
        await using var writer = new PieceWriter(manifest, device, new PieceWriterOptions { MaxInFlightBytes = 4 * 16 * 1024 });

        // Every piece is offered at once, more than the budget holds, so the writer is always full.
        var results = await Task.WhenAll(Enumerable.Range(0, pieces).Select(p => writer.WriteAsync(p, TestImages.Piece(image, 16 * 1024, p), cancellationToken: Token)));
        await writer.CompleteAsync(Token);

        Assert.All(results, r => Assert.Equal(PieceWriteStatus.Written, r.Status));
        Assert.Equal(4, writer.MaxBuffersInFlight);
        Assert.InRange(writer.BuffersAllocated, 1, writer.MaxBuffersInFlight);
        Assert.Equal(image, device.Contents.ToArray());
    }

    [Fact]
    public async Task DisposingARentedBufferGivesItsRoomBack()
    {
        byte[] image = TestImages.Build("rr");
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), new MemoryBlockDevice(image.Length), new PieceWriterOptions { MaxInFlightBytes = PieceLength });
        PieceBuffer first = await writer.RentAsync(0, Token);
        ValueTask<PieceBuffer> second = writer.RentAsync(1, Token);

        first.Dispose();
        using PieceBuffer secondBuffer = await second.AsTask().WaitAsync(Timeout, Token);

        Assert.Throws<ObjectDisposedException>(() => first.Memory);
    }

    [Fact]
    public async Task AWaitingRentCanBeCancelled()
    {
        byte[] image = TestImages.Build("rr");
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), new MemoryBlockDevice(image.Length), new PieceWriterOptions { MaxInFlightBytes = PieceLength });
        using PieceBuffer first = await writer.RentAsync(0, Token);
        using var cts = new CancellationTokenSource();

        ValueTask<PieceBuffer> second = writer.RentAsync(1, cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await second);
    }

    [Fact]
    public async Task ACommitWithACancelledTokenWritesNothing()
    {
        byte[] image = TestImages.Build("r");
        var device = new MemoryBlockDevice(image.Length);
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), device);
        PieceBuffer buffer = await writer.RentAsync(0, Token);
        TestImages.Piece(image, PieceLength, 0).CopyTo(buffer.Memory);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.CommitAsync(buffer, cancellationToken: new CancellationToken(canceled: true)));

        Assert.False(writer.HasPiece(0));
        Assert.Equal(0, device.WriteCount);
    }

    [Fact]
    public async Task ACommitCancelledWhileItWaitsForTheDeviceIsNotWritten()
    {
        byte[] image = TestImages.Build("rr");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var memory = new MemoryBlockDevice(image.Length);
        var device = new InterceptingDevice(memory) { BeforeWrite = (n, _, _) => n == 1 ? gate.Task : Task.CompletedTask };
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), device);
        Task<PieceWriteResult> blocking = writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);
        await Eventually.TrueAsync(() => device.Writes == 1, Timeout, "the first write to start", Token);
        using var cts = new CancellationTokenSource();

        Task<PieceWriteResult> waiting = writer.WriteAsync(1, TestImages.Piece(image, PieceLength, 1), cancellationToken: cts.Token);
        await Eventually.TrueAsync(() => writer.GetStatistics().PiecesVerified == 2, Timeout, "the second piece to be verified", Token);
        await cts.CancelAsync();
        gate.SetResult();

        await blocking;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.False(writer.HasPiece(1));
        Assert.True(memory.Contents.Span[PieceLength..].IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public async Task DisposingTheWriterCancelsThePiecesItHasNotWritten()
    {
        byte[] image = TestImages.Build("rr");
        var memory = new MemoryBlockDevice(image.Length);
        var device = new InterceptingDevice(memory) { BeforeWrite = (_, _, ct) => Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, ct) };
        var writer = new PieceWriter(new HashListManifest(image, PieceLength), device);
        Task<PieceWriteResult> stuck = writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);
        await Eventually.TrueAsync(() => device.Writes == 1, Timeout, "the write to start", Token);

        await writer.DisposeAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stuck);
        Assert.False(writer.HasPiece(0));
        Assert.Equal(0, writer.GetStatistics().WriteFailures);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await writer.RentAsync(1, Token));
    }

    [Fact]
    public async Task AdjacentVerifiedPiecesAreCoalescedIntoOneWrite()
    {
        byte[] image = TestImages.Build("rrrrrr");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var memory = new MemoryBlockDevice(image.Length);
        var device = new InterceptingDevice(memory) { BeforeWrite = (n, _, _) => n == 1 ? gate.Task : Task.CompletedTask };
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), device);
        Task<PieceWriteResult> first = writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);
        await Eventually.TrueAsync(() => device.Writes == 1, Timeout, "the first write to start", Token);

        Task<PieceWriteResult>[] rest = [.. new[] { 4, 2, 5, 1, 3 }.Select(p => writer.WriteAsync(p, TestImages.Piece(image, PieceLength, p), cancellationToken: Token))];
        await Eventually.TrueAsync(() => writer.GetStatistics().PiecesVerified == 6, Timeout, "all pieces to be verified", Token);
        gate.SetResult();
        await Task.WhenAll(rest.Append(first));

        Assert.Equal(2, device.Writes);
        Assert.Equal(image, memory.Contents.ToArray());
    }

    [Fact]
    public async Task CompleteWaitsForEveryCommittedPiece()
    {
        byte[] image = TestImages.Build("rrrrrrrr");
        var device = new MemoryBlockDevice(image.Length);
        var writer = new PieceWriter(new HashListManifest(image, PieceLength), device);
        await using (writer)
        {
            var commits = new List<Task<PieceWriteResult>>();
            for (int p = 0; p < 8; p++)
            {
                PieceBuffer buffer = await writer.RentAsync(p, Token);
                TestImages.Piece(image, PieceLength, p).CopyTo(buffer.Memory);
                commits.Add(writer.CommitAsync(buffer, cancellationToken: Token));
            }

            var statistics = await writer.CompleteAsync(Token);

            Assert.All(commits, c => Assert.True(c.IsCompletedSuccessfully));
            Assert.Equal(8, statistics.PiecesWritten);
            Assert.Equal(image, device.Contents.ToArray());
        }
    }

    [Fact]
    public async Task AfterCompletionNoPieceIsAccepted()
    {
        byte[] image = TestImages.Build("r");
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), new MemoryBlockDevice(image.Length));
        await writer.CompleteAsync(Token);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await writer.RentAsync(0, Token));
    }

    [Fact]
    public async Task ReadBackVerificationCatchesADeviceThatLosesWrites()
    {
        byte[] image = TestImages.Build("rrr");
        var device = new InterceptingDevice(new MemoryBlockDevice(image.Length)) { DropWrite = offset => offset == PieceLength };
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), device, new PieceWriterOptions { VerifyAfterWrite = true });
        for (int p = 0; p < 3; p++)
        {
            await writer.WriteAsync(p, TestImages.Piece(image, PieceLength, p), cancellationToken: Token);
        }

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => writer.CompleteAsync(Token));

        Assert.Contains("first: 1", error.Message, StringComparison.Ordinal);
        Assert.False(writer.HasPiece(1));
        Assert.True(writer.HasPiece(2));
    }

    [Fact]
    public void InvalidOptionsAreRefusedNamingTheOption()
    {
        byte[] image = TestImages.Build("r");

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new PieceWriter(new HashListManifest(image, PieceLength), new MemoryBlockDevice(image.Length), new PieceWriterOptions { MaxInFlightBytes = 1 }));

        Assert.Equal("MaxInFlightBytes", error.ParamName);
    }
}
