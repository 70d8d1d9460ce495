using Quill.Broker.Metadata;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// Metadata: the brokers, cluster id, controller, and the requested topics (all of them for a null list, or an
/// empty one in v0) with partitions, leaders, epochs, replicas, ISR and topic ids. Unknown topics are created when
/// auto.create.topics.enable and the request allow it (v4+); creation is synchronous, so the new topic is returned
/// ready rather than with LEADER_NOT_AVAILABLE. Every broker is given by its endpoint on the listener the request came
/// in on, as Kafka answers: a broker without that listener is left out, and a partition it leads has no leader
/// (LISTENER_NOT_FOUND from v6, LEADER_NOT_AVAILABLE before).
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
        foreach (var broker in live.Select(b => b.On(context.ListenerName)).OfType<BrokerInfo>())
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
                AddTopic(response, topic, KafkaError.None, includeTopicOps, live, context);
            return response;
        }

        bool autoCreate = services.Options.AutoCreateTopicsEnable && (version < 4 || request.AllowAutoTopicCreation);
        foreach (var wanted in requested)
        {
            string? name = wanted.Name;
            Guid id = version >= 10 ? wanted.TopicId : Guid.Empty;
            if (name is null)
            {
                if (id != Guid.Empty && metadata.GetTopic(id) is { } byId) AddTopic(response, byId, KafkaError.None, includeTopicOps, live, context);
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
                AddTopic(response, known, KafkaError.None, includeTopicOps, live, context);
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
                    AddTopic(response, created, KafkaError.None, includeTopicOps, services.LiveBrokers, context);
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
    /// (LEADER_NOT_AVAILABLE), nor is a live one without the request's listener (LISTENER_NOT_FOUND from v6, as
    /// Kafka's errorUnavailableListeners), and the offline replicas are those on brokers that are not live.
    /// </summary>
    private static void AddTopic(MetadataResponseData response, TopicInfo topic, KafkaError error, bool includeOps, IReadOnlyList<BrokerInfo> live,
        RequestContext context)
    {
        var liveIds = live.Select(b => b.Id).ToHashSet();
        var reachable = live.Where(b => b.EndpointFor(context.ListenerName) is not null).Select(b => b.Id).ToHashSet();
        var noListener = context.Version >= 6 ? KafkaError.ListenerNotFound : KafkaError.LeaderNotAvailable;
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
            bool led = reachable.Contains(p.State.Leader);
            entry.Partitions.Add(new MetadataResponseData.TopicsItem.PartitionsItem
            {
                ErrorCode = (short)(led ? KafkaError.None : liveIds.Contains(p.State.Leader) ? noListener : KafkaError.LeaderNotAvailable),
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
