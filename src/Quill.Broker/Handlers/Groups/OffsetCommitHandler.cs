using Quill.Broker.Groups;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// OffsetCommit (v0-9). v0 has no generation (a simple commit, generation -1); v1 may give a commit time; v2-4
/// a retention time; v6+ the leader epoch; v7+ the group instance id. Errors are per partition.
/// </summary>
internal sealed class OffsetCommitHandler(GroupCoordinator coordinator, Func<string, int, bool>? partitionExists) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.OffsetCommit;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        short version = context.Version;
        long retention = version is >= 2 and <= 4 ? body.GetInt64("RetentionTimeMs") : -1;
        var topics = body.GetArray("Topics") ?? [];
        var entries = new List<OffsetCommitEntry>();
        foreach (var topic in topics)
        {
            string name = topic.GetString("Name") ?? "";
            foreach (var p in topic.GetArray("Partitions") ?? [])
            {
                entries.Add(new OffsetCommitEntry(name, p.GetInt32("PartitionIndex"), p.GetInt64("CommittedOffset"),
                    p.GetInt32("CommittedLeaderEpoch"), p.GetString("CommittedMetadata"),
                    version == 1 ? p.GetInt64("CommitTimestamp") : -1, retention));
            }
        }

        var errors = coordinator.CommitOffsets(
            body.GetString("GroupId") ?? "",
            version >= 1 ? body.GetString("MemberId") ?? "" : "",
            body.GetString("GroupInstanceId"),
            version >= 1 ? body.GetInt32("GenerationIdOrMemberEpoch") : -1,
            entries, partitionExists);

        var response = context.NewResponse();
        int i = 0;
        foreach (var topic in topics)
        {
            var topicResponse = response.AddElement("Topics").SetString("Name", topic.GetString("Name"));
            foreach (var p in topic.GetArray("Partitions") ?? [])
                topicResponse.AddElement("Partitions").SetInt("PartitionIndex", p.GetInt32("PartitionIndex")).SetInt("ErrorCode", (short)errors[i++]);
        }
        return ValueTask.FromResult(response);
    }
}
