using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

public sealed partial class OffsetFetchRequestData
{
    /// <summary>
    /// Kafka's OffsetFetchRequest.getErrorResponse: v0-7 the top-level error (v2+) and every requested partition with
    /// the error and no offset (-1), which is all v0-1 can say; v8+ each requested group with the error (its requested
    /// partitions too). The writer keeps what the version has.
    /// </summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new OffsetFetchResponseData { ErrorCode = (short)error };
        foreach (var topic in Topics ?? [])
        {
            var answer = new OffsetFetchResponseData.TopicsItem { Name = topic.Name };
            foreach (int partition in topic.PartitionIndexes)
                answer.Partitions.Add(new OffsetFetchResponseData.TopicsItem.PartitionsItem { PartitionIndex = partition, CommittedOffset = -1, ErrorCode = (short)error });
            response.Topics.Add(answer);
        }
        foreach (var group in Groups)
        {
            var groupAnswer = new OffsetFetchResponseData.GroupsItem { GroupId = group.GroupId, ErrorCode = (short)error };
            foreach (var topic in group.Topics ?? [])
            {
                var answer = new OffsetFetchResponseData.GroupsItem.TopicsItem { Name = topic.Name };
                foreach (int partition in topic.PartitionIndexes)
                    answer.Partitions.Add(new OffsetFetchResponseData.GroupsItem.TopicsItem.PartitionsItem { PartitionIndex = partition, CommittedOffset = -1, ErrorCode = (short)error });
                groupAnswer.Topics.Add(answer);
            }
            response.Groups.Add(groupAnswer);
        }
        return response;
    }
}
