using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// OffsetCommit (v0-9). v0 has no generation (a simple commit, generation -1); v1 may give a commit time; v2-4
/// a retention time; v6+ the leader epoch; v7+ the group instance id. Errors are per partition.
/// </summary>
internal sealed class OffsetCommitHandler(GroupCoordinator coordinator, Func<string, int, bool>? partitionExists)
    : ApiHandler<OffsetCommitRequestData, OffsetCommitResponseData>
{
    public override ApiKey ApiKey => ApiKey.OffsetCommit;

    public override async ValueTask<OffsetCommitResponseData> HandleAsync(OffsetCommitRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        short version = context.Version;
        long retention = version is >= 2 and <= 4 ? request.RetentionTimeMs : -1;
        var entries = new List<OffsetCommitEntry>();
        foreach (var topic in request.Topics)
        {
            foreach (var p in topic.Partitions)
            {
                entries.Add(new OffsetCommitEntry(topic.Name, p.PartitionIndex, p.CommittedOffset,
                    p.CommittedLeaderEpoch, p.CommittedMetadata, version == 1 ? p.CommitTimestamp : -1, retention));
            }
        }

        var errors = await coordinator.CommitOffsetsAsync(
            request.GroupId,
            version >= 1 ? request.MemberId : "",
            request.GroupInstanceId,
            version >= 1 ? request.GenerationIdOrMemberEpoch : -1,
            entries, partitionExists);

        // One answer per partition asked, in the order asked (duplicates included).
        var response = new OffsetCommitResponseData();
        int i = 0;
        foreach (var topic in request.Topics)
        {
            var topicResponse = new OffsetCommitResponseData.TopicsItem { Name = topic.Name };
            response.Topics.Add(topicResponse);
            foreach (var p in topic.Partitions)
                topicResponse.Partitions.Add(new OffsetCommitResponseData.TopicsItem.PartitionsItem { PartitionIndex = p.PartitionIndex, ErrorCode = (short)errors[i++] });
        }
        return response;
    }
}
