using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

// The transaction APIs' error responses (Kafka's AddPartitionsToTxnRequest, ... getErrorResponse).

public sealed partial class AddPartitionsToTxnRequestData
{
    /// <summary>Each requested partition with the error (v0-3, the versions described, carry errors only there).</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new AddPartitionsToTxnResponseData();
        foreach (var topic in V3AndBelowTopics)
        {
            var answer = new AddPartitionsToTxnResponseData.ResultsByTopicV3AndBelowItem { Name = topic.Name };
            foreach (int partition in topic.Partitions)
                answer.ResultsByPartition.Add(new AddPartitionsToTxnResponseData.ResultsByTopicV3AndBelowItem.ResultsByPartitionItem { PartitionIndex = partition, PartitionErrorCode = (short)error });
            response.ResultsByTopicV3AndBelow.Add(answer);
        }
        return response;
    }
}

public sealed partial class AddOffsetsToTxnRequestData
{
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new AddOffsetsToTxnResponseData { ErrorCode = (short)error };
}

public sealed partial class EndTxnRequestData
{
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new EndTxnResponseData { ErrorCode = (short)error };
}

public sealed partial class TxnOffsetCommitRequestData
{
    /// <summary>Each partition of the commit with the error.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new TxnOffsetCommitResponseData();
        foreach (var topic in Topics)
        {
            var answer = new TxnOffsetCommitResponseData.TopicsItem { Name = topic.Name };
            foreach (var partition in topic.Partitions)
                answer.Partitions.Add(new TxnOffsetCommitResponseData.TopicsItem.PartitionsItem { PartitionIndex = partition.PartitionIndex, ErrorCode = (short)error });
            response.Topics.Add(answer);
        }
        return response;
    }
}

public sealed partial class WriteTxnMarkersRequestData
{
    /// <summary>Each partition of each marker with the error.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new WriteTxnMarkersResponseData();
        foreach (var marker in Markers)
        {
            var answer = new WriteTxnMarkersResponseData.MarkersItem { ProducerId = marker.ProducerId };
            foreach (var topic in marker.Topics)
            {
                var topicAnswer = new WriteTxnMarkersResponseData.MarkersItem.TopicsItem { Name = topic.Name };
                foreach (int partition in topic.PartitionIndexes)
                    topicAnswer.Partitions.Add(new WriteTxnMarkersResponseData.MarkersItem.TopicsItem.PartitionsItem { PartitionIndex = partition, ErrorCode = (short)error });
                answer.Topics.Add(topicAnswer);
            }
            response.Markers.Add(answer);
        }
        return response;
    }
}
