using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

public sealed partial class ListOffsetsRequestData
{
    /// <summary>Kafka's ListOffsetsRequest.getErrorResponse: every requested partition with the error, no offset and no timestamp (-1).</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new ListOffsetsResponseData();
        foreach (var topic in Topics)
        {
            var answer = new ListOffsetsResponseData.TopicsItem { Name = topic.Name };
            foreach (var partition in topic.Partitions)
            {
                answer.Partitions.Add(new ListOffsetsResponseData.TopicsItem.PartitionsItem
                {
                    PartitionIndex = partition.PartitionIndex,
                    ErrorCode = (short)error,
                    Timestamp = -1,
                    Offset = -1,
                    LeaderEpoch = -1,
                });
            }
            response.Topics.Add(answer);
        }
        return response;
    }
}
