using System.Buffers.Binary;
using System.Text.Json;

namespace Quill.Streams.Cluster;

/// <summary>
/// The first frame of every connection to an instance's <see cref="DataEndpoint"/>, JSON: a data channel
/// (<c>kind "data"</c>: the generation, the keyed stage's edge, the sending and the receiving subtask), the control
/// connection of a follower to its leader (<c>"control"</c>: the generation and the follower's id), a follower's
/// exactly-once sink task writing through the leader (<c>"sink"</c>: the generation, the follower's id and the subtask;
/// see <see cref="SinkFrames"/>), or a probe (is the instance there). The endpoint answers one byte: 1 accepted, 0 refused (another generation, or unknown).
/// </summary>
internal sealed class Hello
{
    public const string Data = "data", Control = "control", Probe = "probe", Sink = "sink";

    public string Kind { get; set; } = "";
    public long Generation { get; set; }
    public int Edge { get; set; }
    public int Sender { get; set; }
    public int Target { get; set; }
    public string? Instance { get; set; }

    public override string ToString() => Kind switch
    {
        Data => $"generation {Generation}, edge {Edge}, subtask {Sender} -> {Target}",
        Control => $"generation {Generation}, control of {Instance}",
        Sink => $"generation {Generation}, sink of subtask {Sender} on {Instance}",
        _ => Kind,
    };
}

/// <summary>Length-prefixed (4-byte big-endian) JSON frames: the hello, and the messages of control connections.</summary>
internal static class JsonFrames
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        IncludeFields = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static byte[] Encode<T>(T message)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(message, Json);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }

    public static T Decode<T>(ReadOnlyMemory<byte> body) =>
        JsonSerializer.Deserialize<T>(body.Span, Json) ?? throw new InvalidDataException($"an empty {typeof(T).Name} frame");
}
