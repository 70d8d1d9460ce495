using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// OffsetDelete (v0): partitions the cluster does not have answer UNKNOWN_TOPIC_OR_PARTITION, the rest go to the
/// coordinator. A group-level error (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, ...) is the whole answer, with no topics.
/// </summary>
public sealed class OffsetDeleteHandler(GroupCoordinator coordinator, Func<string, int, bool> partitionExists) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.OffsetDelete;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        string groupId = context.Body.GetString("GroupId") ?? "";
        var errors = new Dictionary<(string Topic, int Partition), KafkaError>();
        var asked = new List<(string Topic, int Partition)>();
        var known = new List<(string Topic, int Partition)>();
        foreach (var topic in context.Body.GetArray("Topics") ?? [])
        {
            string name = topic.GetString("Name") ?? "";
            foreach (var p in topic.GetArray("Partitions") ?? [])
            {
                var key = (name, p.GetInt32("PartitionIndex"));
                asked.Add(key);
                if (partitionExists(key.name, key.Item2)) known.Add(key);
                else errors[key] = KafkaError.UnknownTopicOrPartition;
            }
        }

        var response = context.NewResponse();
        var result = coordinator.DeleteOffsets(groupId, known);
        if (result.Error != KafkaError.None) return ValueTask.FromResult(response.SetInt("ErrorCode", (short)result.Error));
        foreach (var (topic, partition, error) in result.Partitions) errors[(topic, partition)] = error;

        var topics = new Dictionary<string, StructValue>(StringComparer.Ordinal);
        foreach (var key in asked.Distinct())
        {
            if (!topics.TryGetValue(key.Topic, out var topicResult))
                topics[key.Topic] = topicResult = response.AddElement("Topics").SetString("Name", key.Topic);
            topicResult.AddElement("Partitions").SetInt("PartitionIndex", key.Partition).SetInt("ErrorCode", (short)errors[key]);
        }
        return ValueTask.FromResult(response);
    }
}
