using System.Buffers;
using BlockTorrent.Wire;
using FsCheck;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Wire;

/// <summary>A message as plain data, to generate, encode with <see cref="MessageWriter"/>, and compare after parsing.</summary>
internal sealed record WireModel(MessageId? Id, int Piece, int Offset, int Length, ushort Port, byte ExtensionId, byte[] Payload, HashRequest Hashes)
{
    public const int PieceCount = 1000;

    private static readonly MessageId[] Simple = [MessageId.Choke, MessageId.Unchoke, MessageId.Interested, MessageId.NotInterested, MessageId.HaveAll, MessageId.HaveNone];

    public static WireModel KeepAlive { get; } = new(null, 0, 0, 0, 0, 0, [], default);

    /// <summary>Any message the codec knows, with fields inside the limits of a reader for <see cref="PieceCount"/> pieces.</summary>
    public static Gen<WireModel> Any()
    {
        Gen<int> piece = Gen.Choose(0, PieceCount - 1);
        Gen<int> offset = Gen.Choose(0, int.MaxValue);
        Gen<int> blockLength = Gen.Choose(1, MessageReader.BlockSize);
        Gen<byte[]> bytes = ArbMap.Default.GeneratorFor<byte[]>();
        Gen<Sha256Hash> root = Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), Sha256Hash.Size).Select(b => Sha256Hash.From(b));
        Gen<HashRequest> hashes =
            from r in root
            from layer in Gen.Choose(0, 30)
            from index in Gen.Choose(0, int.MaxValue)
            from length in Gen.Choose(1, int.MaxValue)
            from proof in Gen.Choose(0, 30)
            select new HashRequest(r, layer, index, length, proof);

        return Gen.OneOf(
            Gen.Constant(KeepAlive),
            Gen.Elements(Simple).Select(id => Empty(id)),
            from id in Gen.Elements(MessageId.Have, MessageId.SuggestPiece, MessageId.AllowedFast)
            from p in piece
            select Empty(id) with { Piece = p },
            from id in Gen.Elements(MessageId.Request, MessageId.Cancel, MessageId.RejectRequest)
            from p in piece
            from o in offset
            from l in blockLength
            select Empty(id) with { Piece = p, Offset = o, Length = l },
            from p in piece
            from o in offset
            from l in Gen.Choose(1, MessageReader.BlockSize)
            from data in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), l)
            select Empty(MessageId.Piece) with { Piece = p, Offset = o, Length = l, Payload = data },
            Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), (PieceCount + 7) / 8).Select(b => Empty(MessageId.Bitfield) with { Payload = ClearSpareBits(b) }),
            ArbMap.Default.GeneratorFor<ushort>().Select(p => Empty(MessageId.Port) with { Port = p }),
            from ext in ArbMap.Default.GeneratorFor<byte>()
            from payload in bytes
            select Empty(MessageId.Extended) with { ExtensionId = ext, Payload = payload },
            from id in Gen.Elements(MessageId.HashRequest, MessageId.HashReject)
            from h in hashes
            select Empty(id) with { Hashes = h },
            from h in hashes
            from count in Gen.Choose(0, 40)
            from data in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), count * Sha256Hash.Size)
            select Empty(MessageId.Hashes) with { Hashes = h, Payload = data });
    }

    public static MessageReader NewReader() => new() { PieceCount = PieceCount, FastExtension = true, ExtensionProtocol = true };

    public void WriteTo(IBufferWriter<byte> writer)
    {
        switch (Id)
        {
            case null:
                MessageWriter.WriteKeepAlive(writer);
                break;
            case MessageId.Have or MessageId.SuggestPiece or MessageId.AllowedFast:
                MessageWriter.WritePieceIndex(writer, Id.Value, Piece);
                break;
            case MessageId.Request or MessageId.Cancel or MessageId.RejectRequest:
                MessageWriter.WriteBlock(writer, Id.Value, new BlockRequest(Piece, Offset, Length));
                break;
            case MessageId.Piece:
                MessageWriter.WritePiece(writer, Piece, Offset, Payload);
                break;
            case MessageId.Bitfield:
                MessageWriter.WriteBitfield(writer, Payload);
                break;
            case MessageId.Port:
                MessageWriter.WritePort(writer, Port);
                break;
            case MessageId.Extended:
                MessageWriter.WriteExtended(writer, ExtensionId, Payload);
                break;
            case MessageId.HashRequest or MessageId.HashReject:
                MessageWriter.WriteHashRequest(writer, Id.Value, Hashes);
                break;
            case MessageId.Hashes:
                MessageWriter.WriteHashes(writer, Hashes, Payload);
                break;
            default:
                MessageWriter.WriteSimple(writer, Id.Value);
                break;
        }
    }

    /// <summary>Reads back what the reader parsed, in the same shape, with only the fields the message carries.</summary>
    public static WireModel From(PeerMessage m) => m.Id switch
    {
        MessageId.Have or MessageId.SuggestPiece or MessageId.AllowedFast => Empty(m.Id) with { Piece = m.Piece },
        MessageId.Request or MessageId.Cancel or MessageId.RejectRequest => Empty(m.Id) with { Piece = m.Piece, Offset = m.Offset, Length = m.Length },
        MessageId.Piece => Empty(m.Id) with { Piece = m.Piece, Offset = m.Offset, Length = m.Length, Payload = m.Payload.ToArray() },
        MessageId.Bitfield => Empty(m.Id) with { Payload = m.Payload.ToArray() },
        MessageId.Port => Empty(m.Id) with { Port = m.Port },
        MessageId.Extended => Empty(m.Id) with { ExtensionId = m.ExtensionId, Payload = m.Payload.ToArray() },
        MessageId.HashRequest or MessageId.HashReject => Empty(m.Id) with { Hashes = m.Hashes },
        MessageId.Hashes => Empty(m.Id) with { Hashes = m.Hashes, Payload = m.Payload.ToArray() },
        _ => Empty(m.Id),
    };

    public bool SameAs(WireModel other) =>
        Id == other.Id && Piece == other.Piece && Offset == other.Offset && Length == other.Length && Port == other.Port
        && ExtensionId == other.ExtensionId && Payload.AsSpan().SequenceEqual(other.Payload) && Hashes == other.Hashes;

    public override string ToString() => $"{Id?.ToString() ?? "KeepAlive"}(piece {Piece}, offset {Offset}, length {Length}, port {Port}, ext {ExtensionId}, {Payload.Length} payload bytes)";

    private static WireModel Empty(MessageId id) => new(id, 0, 0, 0, 0, 0, [], default);

    private static byte[] ClearSpareBits(byte[] bits)
    {
        int spare = (8 - (PieceCount % 8)) % 8;
        bits[^1] &= (byte)~((1 << spare) - 1);
        return bits;
    }
}
