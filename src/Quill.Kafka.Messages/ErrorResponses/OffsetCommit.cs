using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

public sealed partial class OffsetCommitRequestData
{
    /// <summary>Kafka's OffsetCommitRequest.getErrorResponse: every partition of the commit with the error.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new OffsetCommitResponseData();
        foreach (var topic in Topics)
        {
            var answer = new OffsetCommitResponseData.TopicsItem { Name = topic.Name };
            foreach (var partition in topic.Partitions)
                answer.Partitions.Add(new OffsetCommitResponseData.TopicsItem.PartitionsItem { PartitionIndex = partition.PartitionIndex, ErrorCode = (short)error });
            response.Topics.Add(answer);
        }
        return response;
    }
}
