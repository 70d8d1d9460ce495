using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Compat.Tests;

/// <summary>Single-partition Produce, Fetch and ListOffsets requests on a raw connection, answered with that partition's part.</summary>
public static class RawRequests
{
    public static async Task<StructValue> ProduceAsync(RawKafkaConnection connection, string topic, short version, byte[] records)
    {
        var request = KafkaApis.Produce.Request.New().SetInt("Acks", -1).SetInt("TimeoutMs", 5000);
        request.AddElement("TopicData").SetString("Name", topic)
            .AddElement("PartitionData").SetInt("Index", 0).SetBytes("Records", records);
        var response = await connection.RequestAsync(KafkaApis.Produce, version, request);
        return response.GetArray("Responses")![0].GetArray("PartitionResponses")![0];
    }

    public static async Task<StructValue> FetchAsync(RawKafkaConnection connection, string topic, short version, long offset)
    {
        var request = KafkaApis.Fetch.Request.New().SetInt("ReplicaId", -1).SetInt("MaxWaitMs", 0).SetInt("MinBytes", 1).SetInt("MaxBytes", 1 << 20);
        request.AddElement("Topics").SetString("Topic", topic)
            .AddElement("Partitions").SetInt("Partition", 0).SetInt("FetchOffset", offset).SetInt("PartitionMaxBytes", 1 << 20);
        var response = await connection.RequestAsync(KafkaApis.Fetch, version, request);
        return response.GetArray("Responses")![0].GetArray("Partitions")![0];
    }

    /// <summary>ListOffsets v7 for one timestamp (or -1 / -2): the offset, after checking the answer has no error.</summary>
    public static async Task<long> OffsetForTimestampAsync(RawKafkaConnection connection, string topic, long timestamp)
    {
        var request = KafkaApis.ListOffsets.Request.New().SetInt("ReplicaId", -1);
        request.AddElement("Topics").SetString("Name", topic).AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt("Timestamp", timestamp);
        var partition = (await connection.RequestAsync(KafkaApis.ListOffsets, 7, request)).GetArray("Topics")![0].GetArray("Partitions")![0];
        Assert.Equal((short)0, partition.GetInt16("ErrorCode"));
        return partition.GetInt64("Offset");
    }
}
