using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

// The topic admin APIs' error responses (Kafka's CreateTopicsRequest, DeleteTopicsRequest, ... getErrorResponse):
// each requested topic (or partition) with the error.

public sealed partial class CreateTopicsRequestData
{
    /// <summary>Each topic with the error, no partition count or replication factor (-1); its configs' error too (v5+).</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new CreateTopicsResponseData();
        foreach (var topic in Topics)
        {
            response.Topics.Add(new CreateTopicsResponseData.TopicsItem
            {
                Name = topic.Name,
                ErrorCode = (short)error,
                TopicConfigErrorCode = (short)error,
                NumPartitions = -1,
                ReplicationFactor = -1,
            });
        }
        return response;
    }
}

public sealed partial class DeleteTopicsRequestData
{
    /// <summary>Topics are named in TopicNames before v6 and in Topics (by name or id) from v6; only one of them is filled.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new DeleteTopicsResponseData();
        foreach (string name in TopicNames)
            response.Responses.Add(new DeleteTopicsResponseData.ResponsesItem { Name = name, ErrorCode = (short)error });
        foreach (var topic in Topics)
            response.Responses.Add(new DeleteTopicsResponseData.ResponsesItem { Name = topic.Name, TopicId = topic.TopicId, ErrorCode = (short)error });
        return response;
    }
}

public sealed partial class DeleteRecordsRequestData
{
    /// <summary>Each partition with the error and no low watermark (-1).</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new DeleteRecordsResponseData();
        foreach (var topic in Topics)
        {
            var answer = new DeleteRecordsResponseData.TopicsItem { Name = topic.Name };
            foreach (var partition in topic.Partitions)
                answer.Partitions.Add(new DeleteRecordsResponseData.TopicsItem.PartitionsItem { PartitionIndex = partition.PartitionIndex, LowWatermark = -1, ErrorCode = (short)error });
            response.Topics.Add(answer);
        }
        return response;
    }
}

public sealed partial class CreatePartitionsRequestData
{
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new CreatePartitionsResponseData();
        foreach (var topic in Topics)
            response.Results.Add(new CreatePartitionsResponseData.ResultsItem { Name = topic.Name, ErrorCode = (short)error });
        return response;
    }
}
