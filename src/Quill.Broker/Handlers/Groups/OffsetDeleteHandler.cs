using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// OffsetDelete (v0): partitions the cluster does not have answer UNKNOWN_TOPIC_OR_PARTITION, the rest go to the
/// coordinator. A group-level error (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, ...) is the whole answer, with no topics.
/// </summary>
public sealed class OffsetDeleteHandler(GroupCoordinator coordinator, Func<string, int, bool> partitionExists)
    : ApiHandler<OffsetDeleteRequestData, OffsetDeleteResponseData>
{
    public override ApiKey ApiKey => ApiKey.OffsetDelete;

    public override async ValueTask<OffsetDeleteResponseData> HandleAsync(OffsetDeleteRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<(string Topic, int Partition), KafkaError>();
        var asked = new List<(string Topic, int Partition)>();
        var known = new List<(string Topic, int Partition)>();
        foreach (var topic in request.Topics)
        {
            foreach (var p in topic.Partitions)
            {
                var key = (topic.Name, p.PartitionIndex);
                asked.Add(key);
                if (partitionExists(key.Name, key.PartitionIndex)) known.Add(key);
                else errors[key] = KafkaError.UnknownTopicOrPartition;
            }
        }

        var response = new OffsetDeleteResponseData();
        var result = await coordinator.DeleteOffsetsAsync(request.GroupId, known);
        if (result.Error != KafkaError.None)
        {
            response.ErrorCode = (short)result.Error;
            return response;
        }
        foreach (var (topic, partition, error) in result.Partitions) errors[(topic, partition)] = error;

        // Duplicates asked once; topics in the order they first appear.
        var topics = new Dictionary<string, OffsetDeleteResponseData.TopicsItem>(StringComparer.Ordinal);
        foreach (var key in asked.Distinct())
        {
            if (!topics.TryGetValue(key.Topic, out var topicResult))
            {
                topics[key.Topic] = topicResult = new OffsetDeleteResponseData.TopicsItem { Name = key.Topic };
                response.Topics.Add(topicResult);
            }
            topicResult.Partitions.Add(new OffsetDeleteResponseData.TopicsItem.PartitionsItem { PartitionIndex = key.Partition, ErrorCode = (short)errors[key] });
        }
        return response;
    }
}
