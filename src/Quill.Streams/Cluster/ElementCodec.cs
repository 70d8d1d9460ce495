using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using Quill.Streams.Checkpoints;
using Quill.Streams.Runtime;

namespace Quill.Streams.Cluster;

/// <summary>
/// How an element travels between processes: a frame of a 4-byte big-endian length, then the kind (1 byte), the
/// sender subtask (4), the timestamp (8), the marker (8: watermark, status, checkpoint id, a loaded table's subtasks) and, for a record only, its
/// value as JSON (System.Text.Json with fields, as checkpoints write state). Ticks never travel (each task has its
/// own clock).
/// </summary>
internal static class ElementCodec
{
    /// <summary>The fixed part of a frame's body.</summary>
    public const int HeaderSize = 1 + 4 + 8 + 8;

    /// <summary>A frame larger than this is a broken stream, not a record.</summary>
    public const int MaxFrame = 64 << 20;

    public static void Write<T>(in StreamElement<T> element, ArrayBufferWriter<byte> output)
    {
        if (element.Kind == ElementKind.ProcessingTimeTick) throw new ArgumentException("ticks stay in their task", nameof(element));
        var lengthAt = output.WrittenCount;
        var head = output.GetSpan(4 + HeaderSize);
        head[4] = (byte)element.Kind;
        BinaryPrimitives.WriteInt32BigEndian(head[5..], element.Sender);
        BinaryPrimitives.WriteInt64BigEndian(head[9..], element.Timestamp);
        BinaryPrimitives.WriteInt64BigEndian(head[17..], element.Marker);
        output.Advance(4 + HeaderSize);
        if (element.Kind == ElementKind.Record)
        {
            using var json = new Utf8JsonWriter(output);
            JsonSerializer.Serialize(json, element.Value, StateJson.Options);
        }
        int body = output.WrittenCount - lengthAt - 4;
        // The buffer grows only at its end, so the length's place is still where it was written.
        BinaryPrimitives.WriteInt32BigEndian(System.Runtime.InteropServices.MemoryMarshal.AsMemory(output.WrittenMemory).Span[lengthAt..], body);
    }

    /// <summary>Decodes one frame's body (without its length prefix).</summary>
    public static StreamElement<T> Read<T>(ReadOnlySpan<byte> body)
    {
        if (body.Length < HeaderSize) throw new InvalidDataException($"a frame of {body.Length} bytes is shorter than an element's header");
        var kind = (ElementKind)body[0];
        if (kind is < ElementKind.Record or > ElementKind.TableLoaded or ElementKind.ProcessingTimeTick or ElementKind.RecordBatch) throw new InvalidDataException($"unknown element kind {body[0]}");
        int sender = BinaryPrimitives.ReadInt32BigEndian(body[1..]);
        long timestamp = BinaryPrimitives.ReadInt64BigEndian(body[5..]);
        long marker = BinaryPrimitives.ReadInt64BigEndian(body[13..]);
        if (kind != ElementKind.Record) return StreamElement<T>.Control(kind, marker, sender);
        var value = JsonSerializer.Deserialize<T>(body[HeaderSize..], StateJson.Options);
        return StreamElement<T>.Record(value!, timestamp, sender);
    }
}

/// <summary>Reads length-prefixed frames (4-byte big-endian length) from a stream, one buffer reused.</summary>
/// <param name="maxFrame">The largest frame accepted: a record's for channels; control connections carry whole
/// snapshots of a task's state and take <see cref="ControlMaxFrame"/>.</param>
internal sealed class FrameReader(Stream input, int maxFrame = ElementCodec.MaxFrame)
{
    /// <summary>A task's keyed state as one JSON snapshot can be large (the on-disk backend exists for state larger than memory).</summary>
    public const int ControlMaxFrame = int.MaxValue - 64;

    private byte[] _buffer = new byte[64 << 10];

    /// <summary>The next frame's body, valid until the next call; null at a clean end of the stream.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> NextAsync(CancellationToken cancellationToken)
    {
        var lengthBytes = _buffer.AsMemory(0, 4);
        if (await input.ReadAsync(lengthBytes[..1], cancellationToken) == 0) return null;
        await input.ReadExactlyAsync(lengthBytes[1..], cancellationToken);
        int length = BinaryPrimitives.ReadInt32BigEndian(lengthBytes.Span);
        if (length < 0 || length > maxFrame) throw new InvalidDataException($"a frame of {length} bytes");
        if (_buffer.Length < length) _buffer = new byte[(int)Math.Min(Math.Max(length, _buffer.Length * 2L), Array.MaxLength)];
        await input.ReadExactlyAsync(_buffer.AsMemory(0, length), cancellationToken);
        return _buffer.AsMemory(0, length);
    }
}
