using Quill.Broker.Metadata;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// Metadata: the brokers, cluster id, controller, and the requested topics (all of them for a null list, or an
/// empty one in v0) with partitions, leaders, epochs, replicas, ISR and topic ids. Unknown topics are created when
/// auto.create.topics.enable and the request allow it (v4+); creation is synchronous, so the new topic is returned
/// ready rather than with LEADER_NOT_AVAILABLE.
/// </summary>
public sealed class MetadataHandler(BrokerServices services) : IApiHandler
{
    /// <summary>Every topic operation, as Kafka reports them when no authorizer is configured.</summary>
    internal const int AllTopicOperations = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
    internal const int AllClusterOperations = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

    public ApiKey ApiKey => ApiKey.Metadata;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var request = context.Body;
        short version = context.Version;
        var response = context.NewResponse();
        var metadata = services.Metadata;

        foreach (var broker in services.LiveBrokers)
            response.AddElement("Brokers").SetInt("NodeId", broker.Id).SetString("Host", broker.Host)
                .SetInt("Port", broker.Port).SetString("Rack", broker.Rack);
        response.SetString("ClusterId", metadata.ClusterId);
        response.SetInt("ControllerId", metadata.ControllerId);
        bool includeTopicOps = version >= 8 && request.GetBool("IncludeTopicAuthorizedOperations");
        if (version is >= 8 and <= 10 && request.GetBool("IncludeClusterAuthorizedOperations"))
            response.SetInt("ClusterAuthorizedOperations", AllClusterOperations);

        var requested = request.GetArray("Topics");
        if (requested is null || (version == 0 && requested.Count == 0))
        {
            foreach (var topic in metadata.Topics.OrderBy(t => t.Name, StringComparer.Ordinal))
                AddTopic(response, topic, KafkaError.None, includeTopicOps);
            return response;
        }

        bool autoCreate = services.Options.AutoCreateTopicsEnable && (version < 4 || request.GetBool("AllowAutoTopicCreation"));
        foreach (var wanted in requested)
        {
            string? name = wanted.GetString("Name");
            Guid id = version >= 10 ? wanted.GetUuid("TopicId") : Guid.Empty;
            if (name is null)
            {
                if (id != Guid.Empty && metadata.GetTopic(id) is { } byId) AddTopic(response, byId, KafkaError.None, includeTopicOps);
                else response.AddElement("Topics").SetInt("ErrorCode", (short)KafkaError.UnknownTopicId).SetString("Name", null).SetUuid("TopicId", id);
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
            response.AddElement("Topics").SetInt("ErrorCode", (short)error).SetString("Name", name);
        }
        return response;
    }

    private static void AddTopic(StructValue response, TopicInfo topic, KafkaError error, bool includeOps)
    {
        var entry = response.AddElement("Topics")
            .SetInt("ErrorCode", (short)error)
            .SetString("Name", topic.Name)
            .SetUuid("TopicId", topic.Id)
            .SetBool("IsInternal", topic.IsInternal);
        if (includeOps) entry.SetInt("TopicAuthorizedOperations", AllTopicOperations);
        foreach (var p in topic.Partitions)
        {
            entry.AddElement("Partitions")
                .SetInt("ErrorCode", (short)(p.State.Leader < 0 ? KafkaError.LeaderNotAvailable : KafkaError.None))
                .SetInt("PartitionIndex", p.Index)
                .SetInt("LeaderId", p.State.Leader)
                .SetInt("LeaderEpoch", p.State.LeaderEpoch)
                .SetInt32Array("ReplicaNodes", p.Replicas)
                .SetInt32Array("IsrNodes", p.State.Isr)
                .SetInt32Array("OfflineReplicas", p.Replicas.Except(p.State.Isr).ToArray());
        }
    }
}
