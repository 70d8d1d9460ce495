using Quill.Broker.Config;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>What AlterConfigs and IncrementalAlterConfigs share: checking the resource, validating and applying the new set.</summary>
internal static class TopicConfigChange
{
    /// <summary>Sets the error for a resource that is not an existing topic; false if it is one.</summary>
    public static bool RefuseResource(BrokerServices services, StructValue result, sbyte type, string name)
    {
        if (type == ResourceTypes.Topic && services.Metadata.GetTopic(name) is not null) return false;
        var (error, message) = type switch
        {
            ResourceTypes.Topic => (KafkaError.UnknownTopicOrPartition, $"Topic {name} does not exist."),
            ResourceTypes.Broker or ResourceTypes.BrokerLogger => (KafkaError.InvalidRequest,
                "Dynamic broker configs are not supported: set them in server.properties and restart the broker."),
            _ => (KafkaError.InvalidRequest, $"Unsupported resource type {type}"),
        };
        result.SetInt("ErrorCode", (short)error).SetString("ErrorMessage", message);
        return true;
    }

    /// <summary>Validates the complete new override set and, unless validate-only, stores and applies it.</summary>
    public static async Task ApplyAsync(BrokerServices services, StructValue result, string topic, Dictionary<string, string> configs,
        bool validateOnly, CancellationToken ct)
    {
        foreach (var (key, value) in configs)
        {
            if (TopicConfigs.Validate(key, value) is { } problem)
            {
                result.SetInt("ErrorCode", (short)KafkaError.InvalidConfig).SetString("ErrorMessage", problem);
                return;
            }
        }
        if (validateOnly) return;
        var outcome = await services.Controller.SetTopicConfigAsync(topic, configs, ct);
        result.SetInt("ErrorCode", (short)outcome.Error).SetString("ErrorMessage", outcome.Message);
    }
}
