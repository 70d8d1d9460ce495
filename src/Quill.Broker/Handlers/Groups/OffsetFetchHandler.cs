using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// OffsetFetch (v0-9). v0-1: a group error is repeated in every partition; v2-7: it is the top-level error, and
/// null topics ask for every committed partition; v8+: several groups, each with its own error.
/// </summary>
internal sealed class OffsetFetchHandler(GroupCoordinator coordinator) : ApiHandler<OffsetFetchRequestData, OffsetFetchResponseData>
{
    public override ApiKey ApiKey => ApiKey.OffsetFetch;

    public override async ValueTask<OffsetFetchResponseData> HandleAsync(OffsetFetchRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new OffsetFetchResponseData();
        bool requireStable = request.RequireStable;
        if (context.Version >= 8)
        {
            foreach (var group in request.Groups)
            {
                var topicsAsked = group.Topics?.Select(t => new TopicPartitions(t.Name, t.PartitionIndexes)).ToList();
                var result = await coordinator.FetchOffsetsAsync(group.GroupId, topicsAsked, requireStable);
                var groupResponse = new OffsetFetchResponseData.GroupsItem { GroupId = group.GroupId, ErrorCode = (short)result.Error };
                response.Groups.Add(groupResponse);
                foreach (var (name, offsets) in ByTopic(result.Offsets))
                {
                    var topic = new OffsetFetchResponseData.GroupsItem.TopicsItem { Name = name };
                    foreach (var o in offsets)
                    {
                        topic.Partitions.Add(new OffsetFetchResponseData.GroupsItem.TopicsItem.PartitionsItem
                        {
                            PartitionIndex = o.Partition,
                            CommittedOffset = o.Offset,
                            CommittedLeaderEpoch = o.LeaderEpoch,
                            Metadata = o.Metadata,
                            ErrorCode = (short)o.Error,
                        });
                    }
                    groupResponse.Topics.Add(topic);
                }
            }
            return response;
        }

        var topics = request.Topics?.Select(t => new TopicPartitions(t.Name, t.PartitionIndexes)).ToList();
        var fetched = await coordinator.FetchOffsetsAsync(request.GroupId, topics, requireStable);
        if (fetched.Error == KafkaError.None) AddTopics(response, fetched.Offsets);
        else if (context.Version < 2 && topics is not null)
        {
            // No top-level error before v2: every partition carries it.
            var failed = new List<FetchedOffset>();
            foreach (var t in topics)
                foreach (int p in t.Partitions) failed.Add(new FetchedOffset(t.Topic, p, -1, -1, "", fetched.Error));
            AddTopics(response, failed);
        }
        response.ErrorCode = (short)fetched.Error;
        return response;
    }

    /// <summary>Adds the offsets (before v8, one group) grouped by topic.</summary>
    private static void AddTopics(OffsetFetchResponseData response, IReadOnlyList<FetchedOffset> offsets)
    {
        foreach (var (name, byTopic) in ByTopic(offsets))
        {
            var topic = new OffsetFetchResponseData.TopicsItem { Name = name };
            foreach (var o in byTopic)
            {
                topic.Partitions.Add(new OffsetFetchResponseData.TopicsItem.PartitionsItem
                {
                    PartitionIndex = o.Partition,
                    CommittedOffset = o.Offset,
                    CommittedLeaderEpoch = o.LeaderEpoch,
                    Metadata = o.Metadata,
                    ErrorCode = (short)o.Error,
                });
            }
            response.Topics.Add(topic);
        }
    }

    /// <summary>The offsets grouped by topic, topics in the order they first appear.</summary>
    private static List<(string Topic, List<FetchedOffset> Offsets)> ByTopic(IReadOnlyList<FetchedOffset> offsets)
    {
        var groups = new List<(string, List<FetchedOffset>)>();
        var index = new Dictionary<string, List<FetchedOffset>>();
        foreach (var o in offsets)
        {
            if (!index.TryGetValue(o.Topic, out var list))
            {
                index[o.Topic] = list = [];
                groups.Add((o.Topic, list));
            }
            list.Add(o);
        }
        return groups;
    }
}
