using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using BlockTorrent.Wire;

namespace BlockTorrent.Benchmarks.Wire;

/// <summary>
/// Encodes and parses a stream of 256 piece messages of 16 KiB (4 MiB of blocks) per operation: the hot path of a
/// peer connection. Expect 0 B allocated per operation, so 0 B per message.
/// </summary>
[MemoryDiagnoser]
public class PieceMessageCodecBenchmarks
{
    private const int Messages = 256;
    private readonly byte[] _block = new byte[MessageReader.BlockSize];
    private readonly byte[] _destination = new byte[MessageReader.BlockSize];
    private readonly MessageReader _reader = new() { PieceCount = Messages };
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: 64 * 1024, useSynchronizationContext: false));
    private ArrayBufferWriter<byte> _output = null!;
    private ReadOnlySequence<byte> _stream;

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_block);
        _output = new ArrayBufferWriter<byte>(Messages * (MessageReader.BlockSize + 13));
        Encode();
        _stream = new ReadOnlySequence<byte>(_output.WrittenMemory.ToArray());
    }

    /// <summary>Encodes 256 piece messages into a reused buffer writer.</summary>
    [Benchmark]
    public int Encode()
    {
        _output.ResetWrittenCount();
        for (int i = 0; i < Messages; i++)
        {
            MessageWriter.WritePiece(_output, i, 0, _block);
        }

        return _output.WrittenCount;
    }

    /// <summary>Parses 256 piece messages and copies each block to a destination, as a connection does.</summary>
    [Benchmark]
    public int Parse()
    {
        ReadOnlySequence<byte> buffer = _stream;
        int count = 0;
        while (_reader.TryRead(ref buffer) == WireReadStatus.Message)
        {
            _reader.Current.Payload.CopyTo(_destination);
            count++;
        }

        return count;
    }

    /// <summary>Writes 256 piece messages into a pipe and parses them out of it, 16 at a time.</summary>
    [Benchmark]
    public async Task<int> ThroughAPipe()
    {
        int count = 0;
        for (int batch = 0; batch < Messages / 16; batch++)
        {
            for (int i = 0; i < 16; i++)
            {
                MessageWriter.WritePiece(_pipe.Writer, (batch * 16) + i, 0, _block);
            }

            await _pipe.Writer.FlushAsync();
            ReadResult result = await _pipe.Reader.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (_reader.TryRead(ref buffer) == WireReadStatus.Message)
            {
                _reader.Current.Payload.CopyTo(_destination);
                count++;
            }

            _pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        }

        return count;
    }
}
