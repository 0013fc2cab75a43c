using BlockTorrent.Manifest;

namespace BlockTorrent.Writing;

/// <summary>Duplicate pieces: copies filled in from a good copy already on the device, without fetching.</summary>
public sealed partial class PieceWriter
{
    /// <summary>
    /// Where some copies of a duplicate group are already on the device and others are not, reads one good copy and
    /// commits it, so the writer fills in the missing copies without fetching anything.
    /// </summary>
    /// <param name="cancellationToken">Cancels between groups.</param>
    /// <returns>A task that completes when every such group's missing copies were written.</returns>
    internal async Task CopyDuplicatesLocallyAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        IImageManifest manifest = _manifest;
        var groups = new Dictionary<int, (int Present, bool Missing)>();
        for (int i = 0; i < manifest.PieceCount; i++)
        {
            if (manifest.IsZeroPiece(i))
            {
                continue;
            }

            int canonical = manifest.GetCanonicalPiece(i);
            if (!groups.TryGetValue(canonical, out var g))
            {
                g = (-1, false);
            }

            if (HasPiece(i))
            {
                g.Present = g.Present < 0 ? i : g.Present;
            }
            else
            {
                g.Missing = true;
            }

            groups[canonical] = g;
        }

        byte[]? buffer = null;
        foreach ((int canonical, (int presentPiece, bool missing)) in groups)
        {
            if (presentPiece < 0 || !missing)
            {
                continue;
            }

            int size = manifest.GetPieceSize(presentPiece);
            buffer ??= new byte[manifest.PieceLength];
            int done = 0;
            while (done < size)
            {
                int n = await _device.ReadAsync(manifest.GetPieceOffset(presentPiece) + done, buffer.AsMemory(done, size - done), cancellationToken).ConfigureAwait(false);
                if (n <= 0)
                {
                    throw new EndOfStreamException($"'{_device.Name}' ended inside piece {presentPiece}.");
                }

                done += n;
            }

            await WriteAsync(canonical, buffer.AsMemory(0, size), source: null, cancellationToken).ConfigureAwait(false);
        }
    }
}
