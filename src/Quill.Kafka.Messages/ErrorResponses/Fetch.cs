using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

public sealed partial class FetchRequestData
{
    /// <summary>
    /// Kafka's FetchRequest.getErrorResponse: the top-level error (v7+, which an incremental fetch with no partitions
    /// relies on) and the same error in every requested partition, with no high watermark and no records.
    /// </summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new FetchResponseData { ErrorCode = (short)error, SessionId = SessionId };
        foreach (var topic in Topics)
        {
            var answer = new FetchResponseData.ResponsesItem { Topic = topic.Topic, TopicId = topic.TopicId };
            foreach (var partition in topic.Partitions)
            {
                answer.Partitions.Add(new FetchResponseData.ResponsesItem.PartitionsItem
                {
                    PartitionIndex = partition.Partition,
                    ErrorCode = (short)error,
                    HighWatermark = -1,
                    LastStableOffset = -1,
                    LogStartOffset = -1,
                    Records = ReadOnlyMemory<byte>.Empty,
                });
            }
            response.Responses.Add(answer);
        }
        return response;
    }
}
