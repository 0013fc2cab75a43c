using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// BEP 10: a peer may send its extended handshake again to change its extensions. The <c>m</c> dictionary is
/// additive: a later handshake changes only the extensions it names, and an id of 0 disables one.
/// </summary>
public sealed class ExtendedHandshakeUpdateTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static readonly byte[] MetadataRequest = System.Text.Encoding.ASCII.GetBytes("d8:msg_typei0e5:piecei0ee");

    [Fact]
    public async Task ALaterHandshakeNamingOnlyPexKeepsTheMetadataIdOfTheFirst()
    {
        byte[]? answer = null;
        await SeedToScriptedPeerAsync(async (c, ct) =>
        {
            await c.SendExtendedAsync(0, "d1:md11:ut_metadatai3e6:ut_pexi4eee", ct);
            await c.SendExtendedAsync(0, "d1:md6:ut_pexi0eee", ct);
            await c.SendExtendedAsync(HostilePeer.UtMetadataId, MetadataRequest, ct);
            answer = await ReadExtendedAsync(c, ct);
        });

        Assert.NotNull(answer);
        Assert.Equal(3, answer[0]);
    }

    [Fact]
    public async Task AnIdOfZeroDisablesAnExtensionAndALaterIdEnablesItAgain()
    {
        byte[]? answer = null;
        await SeedToScriptedPeerAsync(async (c, ct) =>
        {
            await c.SendExtendedAsync(0, "d1:md11:ut_metadatai3ee4:reqqi50ee", ct);
            await c.SendExtendedAsync(0, "d1:md11:ut_metadatai0eee", ct);
            await c.SendExtendedAsync(HostilePeer.UtMetadataId, MetadataRequest, ct);
            await c.SendExtendedAsync(0, "d1:md11:ut_metadatai5eee", ct);
            await c.SendExtendedAsync(HostilePeer.UtMetadataId, MetadataRequest, ct);

            // The engine handles messages in order: had the disabled extension been answered, that answer (on id 3)
            // would come first.
            answer = await ReadExtendedAsync(c, ct);
        });

        Assert.NotNull(answer);
        Assert.Equal(5, answer[0]);
    }

    /// <summary>Reads the next extended message that is not the engine's own handshake: its id and payload.</summary>
    private static async Task<byte[]> ReadExtendedAsync(HostilePeer.Connection c, CancellationToken ct)
    {
        while (true)
        {
            (MessageId id, byte[] body) = await c.ReadMessageAsync(ct);
            if (id == MessageId.Extended && body[0] != 0)
            {
                return body;
            }
        }
    }

    private static async Task SeedToScriptedPeerAsync(Func<HostilePeer.Connection, CancellationToken, Task> script)
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(1024 * 1024, seed: 61, TorrentVersions.V1);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var peer = new HostilePeer(manifest, async (c, ct) =>
        {
            try
            {
                await script(c, ct);
                done.TrySetResult();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                done.TrySetException(e);
                throw;
            }
        });
        await SwarmTestImages.SeedToAsync(image, manifest, peer.EndPoint, ct => done.Task.WaitAsync(ct), Bound);
    }
}
