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

        foreach (var broker in services.LiveBrokers)
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
                AddTopic(response, topic, KafkaError.None, includeTopicOps);
            return response;
        }

        bool autoCreate = services.Options.AutoCreateTopicsEnable && (version < 4 || request.AllowAutoTopicCreation);
        foreach (var wanted in requested)
        {
            string? name = wanted.Name;
            Guid id = version >= 10 ? wanted.TopicId : Guid.Empty;
            if (name is null)
            {
                if (id != Guid.Empty && metadata.GetTopic(id) is { } byId) AddTopic(response, byId, KafkaError.None, includeTopicOps);
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
                AddTopic(response, known, KafkaError.None, includeTopicOps);
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
                    AddTopic(response, created, KafkaError.None, includeTopicOps);
                    continue;
                }
                error = result.Error;
            }
            response.Topics.Add(new MetadataResponseData.TopicsItem { ErrorCode = (short)error, Name = name });
        }
        return response;
    }

    private static void AddTopic(MetadataResponseData response, TopicInfo topic, KafkaError error, bool includeOps)
    {
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
            entry.Partitions.Add(new MetadataResponseData.TopicsItem.PartitionsItem
            {
                ErrorCode = (short)(p.State.Leader < 0 ? KafkaError.LeaderNotAvailable : KafkaError.None),
                PartitionIndex = p.Index,
                LeaderId = p.State.Leader,
                LeaderEpoch = p.State.LeaderEpoch,
                ReplicaNodes = [.. p.Replicas],
                IsrNodes = [.. p.State.Isr],
                OfflineReplicas = [.. p.Replicas.Except(p.State.Isr)],
            });
        }
        response.Topics.Add(entry);
    }
}
