using System.Buffers;
using System.Text;
using System.Text.Json;

namespace BlockTorrent.Benchmarks.Swarm;

/// <summary>
/// Prints one JSON object on one line of standard output, written field by field with a <see cref="Utf8JsonWriter"/>
/// rather than serialized by reflection, so the peer command works the same when published ahead of time (native AOT
/// trims the metadata a reflection serializer needs, and anonymous types cannot use a source-generated context).
/// </summary>
internal static class JsonLine
{
    public static void Print(Action<Utf8JsonWriter> fields)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            fields(writer);
            writer.WriteEndObject();
        }

        Console.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
