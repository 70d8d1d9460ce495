using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

// The partition admin APIs' error responses (Kafka's ElectLeadersRequest, ... getErrorResponse).

public sealed partial class ElectLeadersRequestData
{
    /// <summary>The top-level error (v1+) and each requested partition with it (null asks for all partitions: none back).</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new ElectLeadersResponseData { ErrorCode = (short)error };
        foreach (var topic in TopicPartitions ?? [])
        {
            var answer = new ElectLeadersResponseData.ReplicaElectionResultsItem { Topic = topic.Topic };
            foreach (int partition in topic.Partitions)
                answer.PartitionResult.Add(new ElectLeadersResponseData.ReplicaElectionResultsItem.PartitionResultItem { PartitionId = partition, ErrorCode = (short)error });
            response.ReplicaElectionResults.Add(answer);
        }
        return response;
    }
}

public sealed partial class ControlledShutdownRequestData
{
    /// <summary>The error, and no remaining partitions (Kafka lists none: the broker learns nothing moved and retries).</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new ControlledShutdownResponseData { ErrorCode = (short)error };
}

public sealed partial class AlterPartitionReassignmentsRequestData
{
    /// <summary>The top-level error and each requested partition with it.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new AlterPartitionReassignmentsResponseData { ErrorCode = (short)error };
        foreach (var topic in Topics)
        {
            var answer = new AlterPartitionReassignmentsResponseData.ResponsesItem { Name = topic.Name };
            foreach (var partition in topic.Partitions)
                answer.Partitions.Add(new AlterPartitionReassignmentsResponseData.ResponsesItem.PartitionsItem { PartitionIndex = partition.PartitionIndex, ErrorCode = (short)error });
            response.Responses.Add(answer);
        }
        return response;
    }
}

public sealed partial class ListPartitionReassignmentsRequestData
{
    /// <summary>The error and no reassignments (its topics carry no error code).</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new ListPartitionReassignmentsResponseData { ErrorCode = (short)error };
}

public sealed partial class DescribeLogDirsRequestData
{
    /// <summary>
    /// The top-level error (v3+) and no log dirs, as Kafka: the request names partitions, not dirs, so there is no
    /// dir to put the error on, and v0-2 clients just see none.
    /// </summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new DescribeLogDirsResponseData { ErrorCode = (short)error };
}
