using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>CreateTopics (19): v1 validate-only and error messages, v5 flexible with configs in the response, v7 topic ids.</summary>
public static class CreateTopicsApi
{
    public static readonly MessageSchema Request = new("CreateTopicsRequest", "0-7", "5+",
        Array("Topics", "0+",
            String("Name", "0+"),
            Int32("NumPartitions", "0+"),
            Int16("ReplicationFactor", "0+"),
            Array("Assignments", "0+",
                Int32("PartitionIndex", "0+"),
                Int32Array("BrokerIds", "0+")),
            Array("Configs", "0+",
                String("Name", "0+"),
                String("Value", "0+").Nullable("0+"))),
        Int32("TimeoutMs", "0+", 60000),
        Bool("ValidateOnly", "1+"));

    public static readonly MessageSchema Response = new("CreateTopicsResponse", "0-7", "5+",
        Int32("ThrottleTimeMs", "2+"),
        Array("Topics", "0+",
            String("Name", "0+"),
            Uuid("TopicId", "7+"),
            Int16("ErrorCode", "0+"),
            String("ErrorMessage", "1+").Nullable("1+"),
            Int16("TopicConfigErrorCode", "5+").Tagged(0),
            Int32("NumPartitions", "5+", -1),
            Int16("ReplicationFactor", "5+", -1),
            Array("Configs", "5+",
                String("Name", "5+"),
                String("Value", "5+").Nullable("5+"),
                Bool("ReadOnly", "5+"),
                Int8("ConfigSource", "5+", -1),
                Bool("IsSensitive", "5+")).Nullable("5+")));
}

/// <summary>DeleteTopics (20): v4 flexible, v5 error messages, v6 topics by name or id.</summary>
public static class DeleteTopicsApi
{
    public static readonly MessageSchema Request = new("DeleteTopicsRequest", "0-6", "4+",
        Array("Topics", "6+",
            NullableString("Name", "6+", "6+"),
            Uuid("TopicId", "6+")),
        StringArray("TopicNames", "0-5"),
        Int32("TimeoutMs", "0+"));

    public static readonly MessageSchema Response = new("DeleteTopicsResponse", "0-6", "4+",
        Int32("ThrottleTimeMs", "1+"),
        Array("Responses", "0+",
            String("Name", "0+").Nullable("6+"),
            Uuid("TopicId", "6+"),
            Int16("ErrorCode", "0+"),
            NullableString("ErrorMessage", "5+", "5+")));
}

/// <summary>DeleteRecords (21): v2 flexible.</summary>
public static class DeleteRecordsApi
{
    public static readonly MessageSchema Request = new("DeleteRecordsRequest", "0-2", "2+",
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int64("Offset", "0+"))),
        Int32("TimeoutMs", "0+"));

    public static readonly MessageSchema Response = new("DeleteRecordsResponse", "0-2", "2+",
        Int32("ThrottleTimeMs", "0+"),
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int64("LowWatermark", "0+"),
                Int16("ErrorCode", "0+"))));
}

/// <summary>CreatePartitions (37): v2 flexible, v3 same bytes.</summary>
public static class CreatePartitionsApi
{
    public static readonly MessageSchema Request = new("CreatePartitionsRequest", "0-3", "2+",
        Array("Topics", "0+",
            String("Name", "0+"),
            Int32("Count", "0+"),
            Array("Assignments", "0+",
                Int32Array("BrokerIds", "0+")).Nullable("0+")),
        Int32("TimeoutMs", "0+"),
        Bool("ValidateOnly", "0+"));

    public static readonly MessageSchema Response = new("CreatePartitionsResponse", "0-3", "2+",
        Int32("ThrottleTimeMs", "0+"),
        Array("Results", "0+",
            String("Name", "0+"),
            Int16("ErrorCode", "0+"),
            NullableString("ErrorMessage", "0+", "0+")));
}
