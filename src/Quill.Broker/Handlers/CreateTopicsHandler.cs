using Quill.Broker.Config;
using Quill.Broker.Metadata;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// CreateTopics: each topic validated and created through the controller (or only validated with ValidateOnly).
/// From v5 a created topic is described back: partitions, replication factor and its configs with their sources.
/// </summary>
public sealed class CreateTopicsHandler(BrokerServices services) : ApiHandler<CreateTopicsRequestData, CreateTopicsResponseData>
{
    public override ApiKey ApiKey => ApiKey.CreateTopics;

    public override async ValueTask<CreateTopicsResponseData> HandleAsync(CreateTopicsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        short version = context.Version;
        bool validateOnly = version >= 1 && request.ValidateOnly;
        var response = new CreateTopicsResponseData();
        var duplicates = request.Topics.GroupBy(t => t.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();

        foreach (var topic in request.Topics)
        {
            string name = topic.Name;
            var result = new CreateTopicsResponseData.TopicsItem { Name = name };
            response.Topics.Add(result);
            if (duplicates.Contains(name))
            {
                SetError(result, version, new AdminResult(KafkaError.InvalidRequest, $"Create topics request from client contains a duplicate topic: {name}"));
                continue;
            }
            var assignments = new Dictionary<int, int[]>();
            foreach (var a in topic.Assignments) assignments[a.PartitionIndex] = [.. a.BrokerIds];
            var configs = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var c in topic.Configs) configs[c.Name] = c.Value;

            var (outcome, created) = await services.Controller.CreateTopicAsync(
                new NewTopic(name, topic.NumPartitions, topic.ReplicationFactor, assignments, configs),
                validateOnly, cancellationToken);
            if (!outcome.IsOk || created is null)
            {
                SetError(result, version, outcome);
                continue;
            }
            result.ErrorMessage = null; // success has no message: null, not the spec's default ""
            result.TopicId = validateOnly ? Guid.Empty : created.Id;
            result.NumPartitions = created.Partitions.Count;
            result.ReplicationFactor = created.ReplicationFactor;
            if (version >= 5)
            {
                foreach (var entry in ConfigDescriber.TopicEntries(services.Options, services.DynamicConfig, created.Configs))
                {
                    result.Configs!.Add(new CreateTopicsResponseData.TopicsItem.ConfigsItem
                    {
                        Name = entry.Name, Value = entry.Value, ReadOnly = false, ConfigSource = (sbyte)entry.Source, IsSensitive = false,
                    });
                }
            }
        }
        return response;
    }

    private static void SetError(CreateTopicsResponseData.TopicsItem result, short version, AdminResult outcome)
    {
        result.ErrorCode = (short)outcome.Error;
        if (version >= 1) result.ErrorMessage = outcome.Message;
        if (version >= 5) result.Configs = null;
    }
}
