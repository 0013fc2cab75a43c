using System.Buffers;
using BlockTorrent.Compression;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Swarm;

/// <summary>
/// Serves block reads for uploads from whole pieces read from the device in one call each, kept in a small LRU of
/// pooled buffers bounded in bytes. Peers ask for a piece's blocks in order, so one large read feeds many requests
/// instead of one 16 KiB syscall per block. Concurrent requests for the same piece share one read.
/// </summary>
/// <remarks>
/// With verification on first read (seed mode), a piece is checked against the manifest the first time it is read;
/// a piece that fails is never served. A piece a stream target no longer holds (<see cref="PieceNotHeldException"/>)
/// is refused that once and read again when asked again. Thread-safe.
/// </remarks>
internal sealed class PieceReadCache : IDisposable
{
    private readonly IImageManifest _manifest;
    private readonly IBlockDevice _device;
    private readonly long _capacity;
    private readonly bool _verifyOnFirstRead;
    private readonly Dictionary<int, Entry> _entries = [];
    private readonly LinkedList<Entry> _lru = new();
    private readonly Bitfield _verified;
    private readonly Bitfield _invalid;
    private long _bytes;
    private bool _disposed;

    public PieceReadCache(IImageManifest manifest, IBlockDevice device, long capacity, bool verifyOnFirstRead)
    {
        _manifest = manifest;
        _device = device;
        _capacity = Math.Max(capacity, manifest.PieceLength);
        _verifyOnFirstRead = verifyOnFirstRead;
        _verified = new Bitfield(manifest.PieceCount);
        _invalid = new Bitfield(manifest.PieceCount);
    }

    /// <summary>Raised when a piece read from the device fails verification.</summary>
    public event Action<int>? PieceInvalid;

    /// <summary>Gets a piece's bytes, reading it from the device when it is not cached.</summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="cancellationToken">Cancels the wait (a read already started completes for other waiters).</param>
    /// <returns>A lease on the bytes; not <see cref="Lease.IsValid"/> when the piece on the device is not the manifest's piece.</returns>
    public async ValueTask<Lease> GetAsync(int piece, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_entries)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_invalid[piece])
            {
                return default;
            }

            if (_entries.TryGetValue(piece, out Entry? found))
            {
                entry = found;
                _lru.Remove(entry.Node);
                _lru.AddFirst(entry.Node);
            }
            else
            {
                int size = _manifest.GetPieceSize(piece);
                entry = new Entry(piece, ArrayPool<byte>.Shared.Rent(size), size);
                entry.Loading = LoadAsync(entry);
                _entries.Add(piece, entry);
                _lru.AddFirst(entry.Node);
                _bytes += size;
                EvictLocked();
            }

            entry.References++;
        }

        bool ok;
        try
        {
            ok = await entry.Loading.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Release(entry);
            throw;
        }

        if (!ok)
        {
            Release(entry);
            return default;
        }

        return new Lease(this, entry);
    }

    public void Dispose()
    {
        lock (_entries)
        {
            _disposed = true;
            foreach (Entry entry in _entries.Values)
            {
                entry.Evicted = true;
                ReturnIfUnused(entry);
            }

            _entries.Clear();
            _lru.Clear();
        }
    }

    private async Task<bool> LoadAsync(Entry entry)
    {
        await Task.Yield();
        try
        {
            long offset = _manifest.GetPieceOffset(entry.Piece);
            int done = 0;
            while (done < entry.Length)
            {
                int n = await _device.ReadAsync(offset + done, entry.Buffer.AsMemory(done, entry.Length - done)).ConfigureAwait(false);
                if (n <= 0)
                {
                    throw new EndOfStreamException($"'{_device.Name}' ended inside piece {entry.Piece}.");
                }

                done += n;
            }

            bool check;
            lock (_entries)
            {
                check = _verifyOnFirstRead && !_verified[entry.Piece];
            }

            if (check && !_manifest.VerifyPiece(entry.Piece, entry.Buffer.AsSpan(0, entry.Length)))
            {
                lock (_entries)
                {
                    _invalid.Set(entry.Piece);
                    Drop(entry);
                }

                PieceInvalid?.Invoke(entry.Piece);
                return false;
            }

            if (check)
            {
                lock (_entries)
                {
                    _verified.Set(entry.Piece);
                }
            }

            return true;
        }
        catch (PieceNotHeldException)
        {
            // A stream target decoded the piece and gave its room to one ahead: refused (a reject), nothing is wrong.
            lock (_entries)
            {
                Drop(entry);
            }

            return false;
        }
        catch
        {
            lock (_entries)
            {
                Drop(entry);
            }

            throw;
        }
    }

    private void Drop(Entry entry)
    {
        if (_entries.TryGetValue(entry.Piece, out Entry? current) && ReferenceEquals(current, entry))
        {
            _entries.Remove(entry.Piece);
            _lru.Remove(entry.Node);
            _bytes -= entry.Length;
        }

        entry.Evicted = true;
        ReturnIfUnused(entry);
    }

    private void EvictLocked()
    {
        LinkedListNode<Entry>? node = _lru.Last;
        while (_bytes > _capacity && node is not null)
        {
            LinkedListNode<Entry>? previous = node.Previous;
            Entry entry = node.Value;
            if (entry.References == 0 && entry.Loading.IsCompleted)
            {
                Drop(entry);
            }

            node = previous;
        }
    }

    private void Release(Entry entry)
    {
        lock (_entries)
        {
            entry.References--;
            ReturnIfUnused(entry);
            if (!entry.Evicted)
            {
                EvictLocked();
            }
        }
    }

    private static void ReturnIfUnused(Entry entry)
    {
        if (entry.Evicted && entry.References == 0 && !entry.Returned)
        {
            entry.Returned = true;
            ArrayPool<byte>.Shared.Return(entry.Buffer);
        }
    }

    /// <summary>
    /// A piece's bytes, held in the cache until disposed. A struct, so serving a block allocates nothing; dispose it
    /// exactly once (a <see langword="using"/> declaration), never a copy of it as well.
    /// </summary>
    internal readonly struct Lease : IDisposable
    {
        private readonly PieceReadCache? _cache;
        private readonly Entry? _entry;

        internal Lease(PieceReadCache cache, Entry entry)
        {
            _cache = cache;
            _entry = entry;
        }

        /// <summary>Gets a value indicating whether the lease holds bytes (false: the piece on the device is invalid).</summary>
        public bool IsValid => _entry is not null;

        /// <summary>Gets the piece's bytes.</summary>
        public ReadOnlySpan<byte> Span => _entry is { } e ? e.Buffer.AsSpan(0, e.Length) : throw new InvalidOperationException("The piece is not available.");

        public void Dispose()
        {
            if (_entry is not null)
            {
                _cache!.Release(_entry);
            }
        }
    }

    internal sealed class Entry
    {
        public Entry(int piece, byte[] buffer, int length)
        {
            Piece = piece;
            Buffer = buffer;
            Length = length;
            Node = new LinkedListNode<Entry>(this);
        }

        public int Piece { get; }

        public byte[] Buffer { get; }

        public int Length { get; }

        public LinkedListNode<Entry> Node { get; }

        public Task<bool> Loading { get; set; } = Task.FromResult(false);

        public int References { get; set; }

        public bool Evicted { get; set; }

        public bool Returned { get; set; }
    }
}
