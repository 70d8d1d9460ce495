using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

// Error responses of InitProducerId, OffsetForLeaderEpoch and DescribeCluster (Kafka's getErrorResponse of each).

public sealed partial class InitProducerIdRequestData
{
    /// <summary>The error and no producer id or epoch (-1).</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error) =>
        new InitProducerIdResponseData { ErrorCode = (short)error, ProducerId = -1, ProducerEpoch = -1 };
}

public sealed partial class OffsetForLeaderEpochRequestData
{
    /// <summary>Each requested partition with the error, no leader epoch and no end offset (-1).</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new OffsetForLeaderEpochResponseData();
        foreach (var topic in Topics)
        {
            var answer = new OffsetForLeaderEpochResponseData.TopicsItem { Topic = topic.Topic };
            foreach (var partition in topic.Partitions)
            {
                answer.Partitions.Add(new OffsetForLeaderEpochResponseData.TopicsItem.PartitionsItem
                {
                    Partition = partition.Partition,
                    ErrorCode = (short)error,
                    LeaderEpoch = -1,
                    EndOffset = -1,
                });
            }
            response.Topics.Add(answer);
        }
        return response;
    }
}

public sealed partial class DescribeClusterRequestData
{
    /// <summary>The error, and the endpoint type asked for (a client refuses an answer about another type).</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error) =>
        new DescribeClusterResponseData { ErrorCode = (short)error, EndpointType = EndpointType };
}
