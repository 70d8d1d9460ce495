using Quill.Broker.Metadata;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// Metadata: the brokers, cluster id, controller, and the requested topics (all of them for a null list, or an
/// empty one in v0) with partitions, leaders, epochs, replicas, ISR and topic ids. Unknown topics are created when
/// auto.create.topics.enable and the request allow it (v4+); creation is synchronous, so the new topic is returned
/// ready rather than with LEADER_NOT_AVAILABLE.
/// </summary>
public sealed class MetadataHandler(BrokerServices services) : ApiHandler<MetadataRequestData, MetadataResponseData>
{
    /// <summary>Every topic operation, as Kafka reports them when no authorizer is configured.</summary>
    internal const int AllTopicOperations = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
    internal const int AllClusterOperations = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

    public override ApiKey ApiKey => ApiKey.Metadata;

    public override async ValueTask<MetadataResponseData> HandleAsync(MetadataRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        short version = context.Version;
        var response = new MetadataResponseData();
        var metadata = services.Metadata;

        var live = services.LiveBrokers;
        foreach (var broker in live)
            response.Brokers.Add(new MetadataResponseData.BrokersItem { NodeId = broker.Id, Host = broker.Host, Port = broker.Port, Rack = broker.Rack });
        response.ClusterId = metadata.ClusterId;
        response.ControllerId = metadata.ControllerId;
        bool includeTopicOps = version >= 8 && request.IncludeTopicAuthorizedOperations;
        if (version is >= 8 and <= 10 && request.IncludeClusterAuthorizedOperations)
            response.ClusterAuthorizedOperations = AllClusterOperations;

        var requested = request.Topics;
        if (requested is null || (version == 0 && requested.Count == 0))
        {
            foreach (var topic in metadata.Topics.OrderBy(t => t.Name, StringComparer.Ordinal))
                AddTopic(response, topic, KafkaError.None, includeTopicOps, live);
            return response;
        }

        bool autoCreate = services.Options.AutoCreateTopicsEnable && (version < 4 || request.AllowAutoTopicCreation);
        foreach (var wanted in requested)
        {
            string? name = wanted.Name;
            Guid id = version >= 10 ? wanted.TopicId : Guid.Empty;
            if (name is null)
            {
                if (id != Guid.Empty && metadata.GetTopic(id) is { } byId) AddTopic(response, byId, KafkaError.None, includeTopicOps, live);
                else
                {
                    // The name is nullable from v12; before that the unknown id is answered with an empty one.
                    response.Topics.Add(new MetadataResponseData.TopicsItem
                    {
                        ErrorCode = (short)KafkaError.UnknownTopicId, Name = version >= 12 ? null : "", TopicId = id,
                    });
                }
                continue;
            }
            if (metadata.GetTopic(name) is { } known)
            {
                AddTopic(response, known, KafkaError.None, includeTopicOps, live);
                continue;
            }
            KafkaError error;
            if (!TopicNames.IsValid(name)) error = KafkaError.InvalidTopicException;
            else if (!autoCreate) error = KafkaError.UnknownTopicOrPartition;
            else
            {
                var (result, created) = await services.Controller.GetOrCreateTopicAsync(new NewTopic(name), cancellationToken);
                if (created is not null)
                {
                    AddTopic(response, created, KafkaError.None, includeTopicOps, services.LiveBrokers);
                    continue;
                }
                error = result.Error;
            }
            response.Topics.Add(new MetadataResponseData.TopicsItem { ErrorCode = (short)error, Name = name });
        }
        return response;
    }

    /// <summary>
    /// A topic's partitions as Kafka's metadata cache gives them: a leader that is not a live broker is no leader
    /// (LEADER_NOT_AVAILABLE), and the offline replicas are those on brokers that are not live.
    /// </summary>
    private static void AddTopic(MetadataResponseData response, TopicInfo topic, KafkaError error, bool includeOps, IReadOnlyList<BrokerInfo> live)
    {
        var liveIds = live.Select(b => b.Id).ToHashSet();
        var entry = new MetadataResponseData.TopicsItem
        {
            ErrorCode = (short)error,
            Name = topic.Name,
            TopicId = topic.Id,
            IsInternal = topic.IsInternal,
        };
        if (includeOps) entry.TopicAuthorizedOperations = AllTopicOperations;
        foreach (var p in topic.Partitions)
        {
            bool led = liveIds.Contains(p.State.Leader);
            entry.Partitions.Add(new MetadataResponseData.TopicsItem.PartitionsItem
            {
                ErrorCode = (short)(led ? KafkaError.None : KafkaError.LeaderNotAvailable),
                PartitionIndex = p.Index,
                LeaderId = led ? p.State.Leader : -1,
                LeaderEpoch = p.State.LeaderEpoch,
                ReplicaNodes = [.. p.Replicas],
                IsrNodes = [.. p.State.Isr],
                OfflineReplicas = [.. p.Replicas.Where(r => !liveIds.Contains(r))],
            });
        }
        response.Topics.Add(entry);
    }
}
