using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// OffsetFetch (v0-9). v0-1: a group error is repeated in every partition; v2-7: it is the top-level error, and
/// null topics ask for every committed partition; v8+: several groups, each with its own error.
/// </summary>
internal sealed class OffsetFetchHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.OffsetFetch;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        var response = context.NewResponse();
        bool requireStable = body.GetBool("RequireStable");
        if (context.Version >= 8)
        {
            foreach (var group in body.GetArray("Groups") ?? [])
            {
                string groupId = group.GetString("GroupId") ?? "";
                var result = coordinator.FetchOffsets(groupId, ReadTopics(group.GetArray("Topics")), requireStable);
                var groupResponse = response.AddElement("Groups").SetString("GroupId", groupId).SetInt("ErrorCode", (short)result.Error);
                AddTopics(groupResponse, result.Offsets);
            }
            return ValueTask.FromResult(response);
        }

        var topics = ReadTopics(body.GetArray("Topics"));
        var fetched = coordinator.FetchOffsets(body.GetString("GroupId") ?? "", topics, requireStable);
        if (fetched.Error == KafkaError.None) AddTopics(response, fetched.Offsets);
        else if (context.Version < 2 && topics is not null)
        {
            // No top-level error before v2: every partition carries it.
            var failed = new List<FetchedOffset>();
            foreach (var t in topics)
                foreach (int p in t.Partitions) failed.Add(new FetchedOffset(t.Topic, p, -1, -1, "", fetched.Error));
            AddTopics(response, failed);
        }
        response.SetInt("ErrorCode", (short)fetched.Error);
        return ValueTask.FromResult(response);
    }

    private static List<TopicPartitions>? ReadTopics(List<StructValue>? topics) =>
        topics?.Select(t => new TopicPartitions(t.GetString("Name") ?? "", t.GetInt32Array("PartitionIndexes") ?? [])).ToList();

    /// <summary>Adds the offsets grouped by topic, topics in the order they first appear.</summary>
    private static void AddTopics(StructValue target, IReadOnlyList<FetchedOffset> offsets)
    {
        var byTopic = new Dictionary<string, StructValue>();
        foreach (var o in offsets)
        {
            if (!byTopic.TryGetValue(o.Topic, out var topic))
                byTopic[o.Topic] = topic = target.AddElement("Topics").SetString("Name", o.Topic);
            topic.AddElement("Partitions")
                .SetInt("PartitionIndex", o.Partition)
                .SetInt("CommittedOffset", o.Offset)
                .SetInt("CommittedLeaderEpoch", o.LeaderEpoch)
                .SetString("Metadata", o.Metadata)
                .SetInt("ErrorCode", (short)o.Error);
        }
    }
}
