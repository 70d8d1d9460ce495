using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

// The controller-to-broker APIs' error responses (Kafka's LeaderAndIsrRequest, StopReplicaRequest,
// UpdateMetadataRequest getErrorResponse): the error at the top and on every partition the request named.

public sealed partial class LeaderAndIsrRequestData
{
    /// <summary>The error at the top and on each partition: by topic name up to v4, under each topic's id from v5.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new LeaderAndIsrResponseData { ErrorCode = (short)error };
        if (version < 5)
        {
            foreach (var (topic, partition) in Partitions(version))
                response.PartitionErrors.Add(new LeaderAndIsrResponseData.PartitionErrorsItem { TopicName = topic, PartitionIndex = partition, ErrorCode = (short)error });
            return response;
        }
        foreach (var topic in TopicStates)
        {
            var answer = new LeaderAndIsrResponseData.TopicsItem { TopicId = topic.TopicId };
            foreach (var p in topic.PartitionStates)
                answer.PartitionErrors.Add(new LeaderAndIsrResponseData.TopicsItem.PartitionErrorsItem { PartitionIndex = p.PartitionIndex, ErrorCode = (short)error });
            response.Topics.Add(answer);
        }
        return response;
    }

    /// <summary>Every partition the request names, whichever layout its version uses.</summary>
    public IEnumerable<(string Topic, int Partition)> Partitions(short version) => version < 2
        ? UngroupedPartitionStates.Select(p => (p.TopicName, p.PartitionIndex))
        : TopicStates.SelectMany(t => t.PartitionStates.Select(p => (t.TopicName, p.PartitionIndex)));
}

public sealed partial class StopReplicaRequestData
{
    /// <summary>The error at the top and on each partition named.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new StopReplicaResponseData { ErrorCode = (short)error };
        foreach (var (topic, partition, _, _) in Partitions(version))
            response.PartitionErrors.Add(new StopReplicaResponseData.PartitionErrorsItem { TopicName = topic, PartitionIndex = partition, ErrorCode = (short)error });
        return response;
    }

    /// <summary>
    /// Every partition the request names with its leader epoch (-1 before v3, or when the controller had none) and
    /// whether to delete it (one flag for the whole request before v3).
    /// </summary>
    public IEnumerable<(string Topic, int Partition, int LeaderEpoch, bool Delete)> Partitions(short version) => version switch
    {
        0 => UngroupedPartitions.Select(p => (p.TopicName, p.PartitionIndex, -1, DeletePartitions)),
        < 3 => Topics.SelectMany(t => t.PartitionIndexes.Select(p => (t.Name, p, -1, DeletePartitions))),
        _ => TopicStates.SelectMany(t => t.PartitionStates.Select(p => (t.TopicName, p.PartitionIndex, p.LeaderEpoch, p.DeletePartition))),
    };
}

public sealed partial class UpdateMetadataRequestData
{
    /// <summary>Just the error: the response has nothing else.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new UpdateMetadataResponseData { ErrorCode = (short)error };
}
