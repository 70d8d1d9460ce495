using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// FindCoordinator (10). v1 key type (0 group, 1 transaction), v3 flexible, v4 batches keys (KIP-699),
/// v5 and v6 only add error semantics and the share key type.
/// </summary>
public static class FindCoordinatorApi
{
    public static readonly MessageSchema Request = new("FindCoordinatorRequest", "0-6", "3+",
        String("Key", "0-3"),
        Int8("KeyType", "1+"),
        StringArray("CoordinatorKeys", "4+"));

    public static readonly MessageSchema Response = new("FindCoordinatorResponse", "0-6", "3+",
        Int32("ThrottleTimeMs", "1+"),
        Int16("ErrorCode", "0-3"),
        String("ErrorMessage", "1-3").Nullable("1-3"),
        Int32("NodeId", "0-3"),
        String("Host", "0-3"),
        Int32("Port", "0-3"),
        Array("Coordinators", "4+",
            String("Key", "4+"),
            Int32("NodeId", "4+"),
            String("Host", "4+"),
            Int32("Port", "4+"),
            Int16("ErrorCode", "4+"),
            String("ErrorMessage", "4+").Nullable("4+")));
}
