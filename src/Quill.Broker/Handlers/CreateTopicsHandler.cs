using Quill.Broker.Config;
using Quill.Broker.Metadata;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// CreateTopics: each topic validated and created through the controller (or only validated with ValidateOnly).
/// From v5 a created topic is described back: partitions, replication factor and its configs with their sources.
/// </summary>
public sealed class CreateTopicsHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.CreateTopics;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var request = context.Body;
        short version = context.Version;
        bool validateOnly = version >= 1 && request.GetBool("ValidateOnly");
        var response = context.NewResponse();
        var topics = request.GetArray("Topics") ?? [];
        var duplicates = topics.GroupBy(t => t.GetString("Name")).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();

        foreach (var topic in topics)
        {
            string name = topic.GetString("Name") ?? "";
            var result = response.AddElement("Topics").SetString("Name", name);
            if (duplicates.Contains(name))
            {
                SetError(result, version, new AdminResult(KafkaError.InvalidRequest, $"Create topics request from client contains a duplicate topic: {name}"));
                continue;
            }
            var assignments = new Dictionary<int, int[]>();
            foreach (var a in topic.GetArray("Assignments") ?? [])
                assignments[a.GetInt32("PartitionIndex")] = a.GetInt32Array("BrokerIds") ?? [];
            var configs = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var c in topic.GetArray("Configs") ?? []) configs[c.GetString("Name") ?? ""] = c.GetString("Value");

            var (outcome, created) = await services.Controller.CreateTopicAsync(
                new NewTopic(name, topic.GetInt32("NumPartitions"), topic.GetInt16("ReplicationFactor"), assignments, configs),
                validateOnly, cancellationToken);
            if (!outcome.IsOk || created is null)
            {
                SetError(result, version, outcome);
                continue;
            }
            result.SetString("ErrorMessage", null) // success has no message: null, not the spec's default ""
                .SetUuid("TopicId", validateOnly ? Guid.Empty : created.Id)
                .SetInt("NumPartitions", created.Partitions.Count)
                .SetInt("ReplicationFactor", created.ReplicationFactor);
            if (version >= 5)
                foreach (var entry in ConfigDescriber.TopicEntries(services.Options, services.DynamicConfig, created.Configs))
                    result.AddElement("Configs").SetString("Name", entry.Name).SetString("Value", entry.Value)
                        .SetBool("ReadOnly", false).SetInt("ConfigSource", (sbyte)entry.Source).SetBool("IsSensitive", false);
        }
        return response;
    }

    private static void SetError(StructValue result, short version, AdminResult outcome)
    {
        result.SetInt("ErrorCode", (short)outcome.Error);
        if (version >= 1) result.SetString("ErrorMessage", outcome.Message);
        if (version >= 5) result.SetArray("Configs", null);
    }
}
