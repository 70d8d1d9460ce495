using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

public sealed partial class MetadataRequestData
{
    /// <summary>
    /// Kafka's MetadataRequest.getErrorResponse: every requested topic (by name and id) with the error and no
    /// partitions, no brokers; the top-level error too (v13+). A request for all topics gets no topics back.
    /// </summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new MetadataResponseData { ErrorCode = (short)error };
        foreach (var topic in Topics ?? [])
            response.Topics.Add(new MetadataResponseData.TopicsItem { Name = topic.Name, TopicId = topic.TopicId, ErrorCode = (short)error });
        return response;
    }
}
