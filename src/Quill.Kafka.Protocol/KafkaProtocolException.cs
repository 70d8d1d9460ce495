namespace Quill.Kafka.Protocol;

/// <summary>
/// The one exception decoding throws for bytes that are not a valid Kafka encoding (truncated, negative or
/// oversized lengths, bad varints, corrupt record batches). The message says where decoding stopped:
/// the message and version, the field path, and the byte offset.
/// </summary>
public sealed class KafkaProtocolException : Exception
{
    public KafkaProtocolException(string message) : base(message) => Problem = message;
    public KafkaProtocolException(string message, Exception inner) : base(message, inner) => Problem = message;

    private KafkaProtocolException(string problem, string path, string message, Exception? inner)
        : base(message, inner)
    {
        Problem = problem;
        FieldPath = path;
    }

    /// <summary>What was wrong, with the byte offset where it was found.</summary>
    public string Problem { get; }

    /// <summary>Where in the message it was found, e.g. <c>Topics[0].Partitions[2].Records</c>; empty if unknown.</summary>
    public string FieldPath { get; } = "";

    internal static KafkaProtocolException At(int offset, string problem) => new($"at offset {offset}: {problem}");

    /// <summary>Prefixes the field path with an enclosing field or array index as the decoder unwinds.</summary>
    internal KafkaProtocolException Within(string frame)
    {
        string path = FieldPath.Length == 0 ? frame : FieldPath[0] == '[' ? frame + FieldPath : frame + "." + FieldPath;
        return new KafkaProtocolException(Problem, path, $"{path}: {Problem}", InnerException);
    }

    /// <summary>Names the message being decoded, giving the final message.</summary>
    internal KafkaProtocolException InMessage(string message)
    {
        string where = FieldPath.Length == 0 ? message : $"{message}, field {FieldPath}";
        return new KafkaProtocolException(Problem, FieldPath, $"{where}: {Problem}", InnerException);
    }
}
