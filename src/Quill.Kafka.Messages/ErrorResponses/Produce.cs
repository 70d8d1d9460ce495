using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

public sealed partial class ProduceRequestData
{
    /// <summary>
    /// Kafka's ProduceRequest.getErrorResponse: every requested partition with the error and no offsets (-1). With
    /// acks=0 the client reads no response, so there is none; Kafka then closes the connection, the client's only sign.
    /// </summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        if (Acks == 0) return null;
        var response = new ProduceResponseData();
        foreach (var topic in TopicData)
        {
            var answer = new ProduceResponseData.ResponsesItem { Name = topic.Name };
            foreach (var partition in topic.PartitionData)
            {
                answer.PartitionResponses.Add(new ProduceResponseData.ResponsesItem.PartitionResponsesItem
                {
                    Index = partition.Index,
                    ErrorCode = (short)error,
                    BaseOffset = -1,
                    LogAppendTimeMs = -1,
                    LogStartOffset = -1,
                });
            }
            response.Responses.Add(answer);
        }
        return response;
    }
}
