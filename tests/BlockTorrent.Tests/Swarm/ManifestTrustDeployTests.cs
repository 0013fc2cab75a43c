using System.Security.Cryptography;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>Deployments that require a signed or pinned manifest: refused before the device is touched.</summary>
public sealed class ManifestTrustDeployTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AManifestSignedByATrustedKeyDeploysBitExact()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (image, manifest) = await SwarmTestImages.CreateAsync(1024 * 1024, seed: 41);
        TorrentManifest signed = TorrentManifest.Parse(manifest.WithSignature(key).ToTorrentBytes());
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(signed, new MemoryBlockDevice(image), null, cts.Token);
        var target = new MemoryBlockDevice(signed.Length);
        DeployOptions options = SwarmTestImages.From(seeder.LocalEndPoint);
        options.Trust = ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem());
        options.ExpectedInfoHash = signed.InfoHashV2;

        await deployer.DeployAsync(signed, target, options, null, cts.Token);

        Assert.True(target.Contents.Span.SequenceEqual(image));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Fact]
    public async Task AnUnsignedManifestIsRefusedWithTrustConfiguredAndTheDeviceIsNeverTouched()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, manifest) = await SwarmTestImages.CreateAsync(1024 * 1024, seed: 42);
        var options = new DeployOptions { Trust = ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem()), CheckExistingData = true };

        var refusal = await RefusedAsync(manifest, options);

        Assert.Equal(ManifestTrustFailure.Unsigned, refusal.Reason);
    }

    [Fact]
    public async Task AManifestSignedByAnotherKeyIsRefusedAndTheDeviceIsNeverTouched()
    {
        using ECDsa trusted = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using ECDsa stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, manifest) = await SwarmTestImages.CreateAsync(1024 * 1024, seed: 43);
        var options = new DeployOptions { Trust = ManifestTrust.FromPem(trusted.ExportSubjectPublicKeyInfoPem()) };

        var refusal = await RefusedAsync(manifest.WithSignature(stranger), options);

        Assert.Equal(ManifestTrustFailure.UntrustedSigner, refusal.Reason);
    }

    [Fact]
    public async Task AManifestWithAnotherInfoHashThanThePinnedOneIsRefusedAndTheDeviceIsNeverTouched()
    {
        var (_, expected) = await SwarmTestImages.CreateAsync(1024 * 1024, seed: 44);
        var (_, substitute) = await SwarmTestImages.CreateAsync(1024 * 1024, seed: 45);
        var options = new DeployOptions { ExpectedInfoHash = expected.InfoHashV1 };

        var refusal = await RefusedAsync(substitute, options);

        Assert.Equal(ManifestTrustFailure.InfoHashMismatch, refusal.Reason);
        Assert.Contains(expected.InfoHashV1!.Value.ToHex(), refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMagnetDeploymentWithTrustConfiguredIsRefusedAsUnsignedBeforeTheDeviceIsTouched()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (image, manifest) = await SwarmTestImages.CreateAsync(1024 * 1024, seed: 46);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        var device = new WatchedDevice(new MemoryBlockDevice(manifest.Length));
        DeployOptions options = SwarmTestImages.From(seeder.LocalEndPoint);
        options.Trust = ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem());
        var magnet = MagnetLink.Parse($"magnet:?xt=urn:btih:{manifest.InfoHashV1}");

        var refusal = await Assert.ThrowsAsync<ManifestTrustException>(() => deployer.DeployAsync(magnet, device, options, null, cts.Token));

        Assert.Equal(ManifestTrustFailure.Unsigned, refusal.Reason);
        Assert.Equal(0, device.Operations);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    private static async Task<ManifestTrustException> RefusedAsync(TorrentManifest manifest, DeployOptions options)
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        byte[] before = new byte[manifest.Length];
        Array.Fill(before, (byte)0x5A);
        var inner = new MemoryBlockDevice(before.ToArray());
        var device = new WatchedDevice(inner);

        var refusal = await Assert.ThrowsAsync<ManifestTrustException>(() => deployer.DeployAsync(manifest, device, options, null, cts.Token));

        Assert.Equal(0, device.Operations);
        Assert.True(inner.Contents.Span.SequenceEqual(before), "the device changed");
        return refusal;
    }

    /// <summary>Counts every read, write, zeroing, discard and flush that reaches the device.</summary>
    private sealed class WatchedDevice(IBlockDevice inner) : PassThroughDevice(inner)
    {
        private int _operations;

        public int Operations => Volatile.Read(ref _operations);

        public override ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _operations);
            return base.ReadAsync(offset, buffer, cancellationToken);
        }

        public override ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _operations);
            return base.WriteAsync(offset, data, cancellationToken);
        }

        public override ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _operations);
            return base.WriteGatherAsync(offset, buffers, cancellationToken);
        }

        public override ValueTask FlushAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _operations);
            return base.FlushAsync(cancellationToken);
        }

        public override ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _operations);
            return base.DiscardAsync(offset, length, cancellationToken);
        }

        public override ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _operations);
            return base.ZeroRangeAsync(offset, length, cancellationToken);
        }
    }
}
