using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

public sealed partial class OffsetDeleteRequestData
{
    /// <summary>Kafka's OffsetDeleteRequest.getErrorResponse: the top-level error, and here each requested partition with it too.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new OffsetDeleteResponseData { ErrorCode = (short)error };
        foreach (var topic in Topics)
        {
            var answer = new OffsetDeleteResponseData.TopicsItem { Name = topic.Name };
            foreach (var partition in topic.Partitions)
                answer.Partitions.Add(new OffsetDeleteResponseData.TopicsItem.PartitionsItem { PartitionIndex = partition.PartitionIndex, ErrorCode = (short)error });
            response.Topics.Add(answer);
        }
        return response;
    }
}
