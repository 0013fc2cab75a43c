using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Interop.Tests.Swarm;

/// <summary>The order a <see cref="ReorderingSeed"/> answers the requests it holds in.</summary>
public enum SendOrder
{
    /// <summary>The last piece asked for first, and each piece's blocks from its end.</summary>
    Reverse,

    /// <summary>A random permutation of the blocks asked for.</summary>
    Random,
}

/// <summary>
/// An adversarial seed on loopback: it announces every piece and unchokes, then holds the requests a target sends and,
/// each time the target stops sending for the moment (nothing more is buffered on the socket), answers all it holds
/// in <see cref="SendOrder.Reverse"/> or <see cref="SendOrder.Random"/> order, never in the order asked.
/// </summary>
internal sealed class ReorderingSeed : IAsyncDisposable
{
    private static readonly byte[] PeerId = "-RO0000-reorderseed0"u8.ToArray();
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TorrentManifest _manifest;
    private readonly byte[] _file;
    private readonly SendOrder _order;
    private readonly Random _random;
    private readonly List<Task> _connections = [];
    private readonly Task _accept;
    private int _reordered;
    private int _blocks;

    public ReorderingSeed(TorrentManifest manifest, byte[] file, SendOrder order, int seed)
    {
        _manifest = manifest;
        _file = file;
        _order = order;
        _random = new Random(seed);
        _listener.Start();
        _accept = AcceptAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Gets how many batches of requests were answered in another order than asked.</summary>
    public int BatchesReordered => Volatile.Read(ref _reordered);

    /// <summary>Gets how many blocks were sent.</summary>
    public int BlocksSent => Volatile.Read(ref _blocks);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
        await Task.WhenAll(_connections);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _connections.Add(ServeAsync(socket, _stop.Token));
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken ct)
    {
        using (socket)
        await using (var stream = new NetworkStream(socket, ownsSocket: false))
        {
            try
            {
                byte[] theirs = new byte[PeerHandshake.Size];
                await stream.ReadExactlyAsync(theirs, ct);
                var output = new ArrayBufferWriter<byte>();
                byte[] ours = new byte[PeerHandshake.Size];
                new PeerHandshake(default, theirs.AsSpan(28, 20), PeerId).WriteTo(ours);
                output.Write(ours);
                byte[] bits = new byte[(_manifest.PieceCount + 7) / 8];
                for (int piece = 0; piece < _manifest.PieceCount; piece++)
                {
                    bits[piece / 8] |= (byte)(0x80 >> (piece % 8));
                }

                MessageWriter.WriteBitfield(output, bits);
                MessageWriter.WriteSimple(output, MessageId.Unchoke);
                await stream.WriteAsync(output.WrittenMemory, ct);
                await AnswerOutOfOrderAsync(socket, stream, ct);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or EndOfStreamException or ObjectDisposedException)
            {
                // The target finished and hung up, or the test ended.
            }
        }
    }

    private async Task AnswerOutOfOrderAsync(Socket socket, NetworkStream stream, CancellationToken ct)
    {
        var held = new List<BlockRequest>();
        var output = new ArrayBufferWriter<byte>();
        byte[] header = new byte[4];
        while (true)
        {
            await stream.ReadExactlyAsync(header, ct);
            int length = BinaryPrimitives.ReadInt32BigEndian(header);
            if (length > 0)
            {
                byte[] body = new byte[length];
                await stream.ReadExactlyAsync(body, ct);
                if (length == 13 && body[0] is (byte)MessageId.Request or (byte)MessageId.Cancel)
                {
                    var block = new BlockRequest(BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1)), BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(5)), BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(9)));
                    if (body[0] == (byte)MessageId.Request)
                    {
                        held.Add(block);
                    }
                    else
                    {
                        held.Remove(block);
                    }
                }
            }

            // The target has said all it has to say for now: everything held goes out, in our order.
            if (socket.Available > 0 || held.Count == 0)
            {
                continue;
            }

            List<BlockRequest> answer = Reorder(held);
            if (answer.Count > 1 && !answer.SequenceEqual(held))
            {
                Interlocked.Increment(ref _reordered);
            }

            output.Clear();
            foreach (BlockRequest block in answer)
            {
                long at = _manifest.GetPieceOffset(block.Piece) + block.Offset;
                MessageWriter.WritePiece(output, block.Piece, block.Offset, _file.AsSpan((int)at, block.Length));
            }

            held.Clear();
            await stream.WriteAsync(output.WrittenMemory, ct);
            Interlocked.Add(ref _blocks, answer.Count);
        }
    }

    private List<BlockRequest> Reorder(List<BlockRequest> held)
    {
        if (_order == SendOrder.Reverse)
        {
            return [.. held.OrderByDescending(b => b.Piece).ThenByDescending(b => b.Offset)];
        }

        BlockRequest[] shuffled = [.. held];
        _random.Shuffle(shuffled);
        return [.. shuffled];
    }
}
