using System.Globalization;
using Quill.Broker.Config;
using Quill.Broker.Metadata;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Handlers;

/// <summary>
/// What AlterConfigs and IncrementalAlterConfigs share: finding the resource's stored configs (a topic's overrides,
/// this broker's dynamic configs, or — broker "" — those of every broker), and validating and storing the new set.
/// Errors are Kafka's: UNKNOWN_TOPIC_OR_PARTITION for a missing topic, INVALID_REQUEST for another broker's id or an
/// unsupported resource type, INVALID_CONFIG for an unknown key, a bad value or a broker config that is not dynamic.
/// </summary>
internal static class ConfigResourceChange
{
    /// <summary>The resource's current stored configs; null (with the error to answer in <paramref name="refusal"/>) if it cannot be changed here.</summary>
    public static Dictionary<string, string>? Current(BrokerServices services, sbyte type, string name, out AdminResult refusal)
    {
        refusal = AdminResult.Ok;
        switch (type)
        {
            case ResourceTypes.Topic when services.Metadata.GetTopic(name) is { } topic:
                return new Dictionary<string, string>(topic.Configs, StringComparer.Ordinal);
            case ResourceTypes.Topic:
                return Refuse(out refusal, KafkaError.UnknownTopicOrPartition, $"Topic {name} does not exist.");
            case ResourceTypes.Broker when name == "":
                return new Dictionary<string, string>(services.DynamicConfig.ClusterDefaults, StringComparer.Ordinal);
            case ResourceTypes.Broker when name == services.BrokerId.ToString(CultureInfo.InvariantCulture):
                return new Dictionary<string, string>(services.DynamicConfig.PerBroker, StringComparer.Ordinal);
            case ResourceTypes.Broker:
                return Refuse(out refusal, KafkaError.InvalidRequest, $"Unexpected broker id, expected {services.BrokerId} or empty string, but received {name}");
            case ResourceTypes.BrokerLogger:
                return Refuse(out refusal, KafkaError.InvalidRequest, "Changing broker log levels at runtime is not supported; set them in the logging configuration.");
            default:
                return Refuse(out refusal, KafkaError.InvalidRequest, $"Unsupported resource type {type}");
        }
    }

    /// <summary>Why a key/value is refused for this resource type, or null.</summary>
    public static string? Validate(sbyte type, string key, string? value) =>
        type == ResourceTypes.Topic ? TopicConfigs.Validate(key, value) : DynamicBrokerConfig.Validate(key, value);

    /// <summary>
    /// Validates the complete new set and, unless validate-only, stores and applies it. The outcome to answer, or null
    /// when a validate-only change passed: then the result keeps its defaults (no error, message "").
    /// </summary>
    public static async Task<AdminResult?> ApplyAsync(BrokerServices services, sbyte type, string name,
        Dictionary<string, string> configs, bool validateOnly, CancellationToken ct)
    {
        foreach (var (key, value) in configs)
            if (Validate(type, key, value) is { } problem) return new AdminResult(KafkaError.InvalidConfig, problem);
        if (validateOnly) return null;
        return type == ResourceTypes.Topic
            ? await services.Controller.SetTopicConfigAsync(name, configs, ct)
            : await services.Controller.SetBrokerConfigAsync(name == "" ? ZkPaths.DefaultBrokerEntity : name, configs, ct);
    }

    private static Dictionary<string, string>? Refuse(out AdminResult refusal, KafkaError error, string message)
    {
        refusal = new AdminResult(error, message);
        return null;
    }
}
