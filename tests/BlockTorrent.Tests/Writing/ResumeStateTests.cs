using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Writing;

namespace BlockTorrent.Tests.Writing;

public sealed class ResumeStateTests : IDisposable
{
    private static readonly InfoHash Hash = InfoHash.FromHex(new string('a', 64));
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ASavedStateLoadsBackWithTheSamePieces()
    {
        var state = new ResumeState(Hash, "/dev/sdb", 1 << 30, 21);
        state.Add(0);
        state.Add(7);
        state.Add(20);
        string path = _dir.File("resume");

        state.Save(path);
        bool loaded = ResumeState.TryLoad(path, Hash, "/dev/sdb", 1 << 30, 21, out ResumeState? back, out string? reason);

        Assert.True(loaded, reason);
        Assert.Equal([0, 7, 20], back!.Pieces);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }

    [Fact]
    public void SavingReplacesTheOldStateWhole()
    {
        string path = _dir.File("resume");
        var first = new ResumeState(Hash, "disk", 100, 3);
        first.Add(1);
        first.Save(path);
        var second = new ResumeState(Hash, "disk", 100, 3);
        second.Add(2);

        second.Save(path);
        ResumeState.TryLoad(path, Hash, "disk", 100, 3, out ResumeState? back, out _);

        Assert.Equal([2], back!.Pieces);
    }

    [Fact]
    public void AnyFlippedByteMakesTheFileProveNothing()
    {
        string path = _dir.File("resume");
        var state = new ResumeState(Hash, "disk", 100, 40);
        state.Add(3);
        state.Save(path);
        byte[] original = File.ReadAllBytes(path);

        for (int i = 0; i < original.Length; i++)
        {
            byte[] corrupted = (byte[])original.Clone();
            corrupted[i] ^= 0x10;
            File.WriteAllBytes(path, corrupted);

            Assert.False(ResumeState.TryLoad(path, Hash, "disk", 100, 40, out _, out string? reason), $"byte {i} flipped was accepted");
            Assert.False(string.IsNullOrEmpty(reason));
        }
    }

    [Fact]
    public void ATruncatedFileIsRejected()
    {
        string path = _dir.File("resume");
        new ResumeState(Hash, "disk", 100, 40).Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^5]);

        Assert.False(ResumeState.TryLoad(path, Hash, "disk", 100, 40, out _, out string? reason));
        Assert.Contains("not a valid resume state", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("image")]
    [InlineData("device")]
    [InlineData("length")]
    [InlineData("pieces")]
    public void AStateForAnotherDeploymentIsRejected(string what)
    {
        string path = _dir.File("resume");
        var state = new ResumeState(Hash, "disk", 100, 40);
        state.Add(1);
        state.Save(path);

        bool loaded = what switch
        {
            "image" => ResumeState.TryLoad(path, InfoHash.FromHex(new string('b', 64)), "disk", 100, 40, out _, out _),
            "device" => ResumeState.TryLoad(path, Hash, "other", 100, 40, out _, out _),
            "length" => ResumeState.TryLoad(path, Hash, "disk", 101, 40, out _, out _),
            _ => ResumeState.TryLoad(path, Hash, "disk", 100, 41, out _, out _),
        };

        Assert.False(loaded);
    }

    [Fact]
    public void AMissingFileIsReportedAsMissing()
    {
        Assert.False(ResumeState.TryLoad(_dir.File("none"), Hash, "disk", 100, 40, out _, out string? reason));
        Assert.Contains("does not exist", reason, StringComparison.Ordinal);
    }
}
