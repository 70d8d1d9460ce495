using System.Globalization;
using Quill.Broker.Config;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>Kafka's config resource types.</summary>
internal static class ResourceTypes
{
    public const sbyte Topic = 2, Broker = 4, BrokerLogger = 8;
}

/// <summary>
/// DescribeConfigs: a topic's configs (every topic config, with its override, dynamic broker config, server.properties
/// or default value and that source), this broker's settings, or (broker "") the configs set at runtime for every
/// broker; only the keys asked for when a list is given.
/// </summary>
public sealed class DescribeConfigsHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.DescribeConfigs;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var request = context.Body;
        short version = context.Version;
        bool synonyms = version >= 1 && request.GetBool("IncludeSynonyms");
        var response = context.NewResponse();
        foreach (var resource in request.GetArray("Resources") ?? [])
        {
            sbyte type = resource.GetInt8("ResourceType");
            string name = resource.GetString("ResourceName") ?? "";
            var keys = resource.GetStringArray("ConfigurationKeys")?.ToHashSet(StringComparer.Ordinal);
            var result = response.AddElement("Results").SetInt("ResourceType", type).SetString("ResourceName", name);
            IEnumerable<ConfigEntry> entries;
            switch (type)
            {
                case ResourceTypes.Topic when services.Metadata.GetTopic(name) is { } topic:
                    entries = ConfigDescriber.TopicEntries(services.Options, services.DynamicConfig, topic.Configs);
                    break;
                case ResourceTypes.Topic:
                    result.SetInt("ErrorCode", (short)(Metadata.TopicNames.IsValid(name) ? KafkaError.UnknownTopicOrPartition : KafkaError.InvalidTopicException))
                        .SetString("ErrorMessage", $"Topic '{name}' does not exist.");
                    continue;
                case ResourceTypes.Broker when name == "":
                    entries = ConfigDescriber.ClusterDefaultEntries(services.DynamicConfig);
                    break;
                case ResourceTypes.Broker when name == services.BrokerId.ToString(CultureInfo.InvariantCulture):
                    entries = ConfigDescriber.BrokerEntries(services.Options, services.DynamicConfig, services.Self.Port);
                    break;
                case ResourceTypes.Broker:
                    result.SetInt("ErrorCode", (short)KafkaError.InvalidRequest).SetString("ErrorMessage", $"Unexpected broker id, expected {services.BrokerId} but received {name}");
                    continue;
                default:
                    result.SetInt("ErrorCode", (short)KafkaError.InvalidRequest).SetString("ErrorMessage", $"Unsupported resource type {type}");
                    continue;
            }
            foreach (var entry in entries)
            {
                if (keys is not null && !keys.Contains(entry.Name)) continue;
                var config = result.AddElement("Configs")
                    .SetString("Name", entry.Name).SetString("Value", entry.Value)
                    .SetBool("ReadOnly", entry.ReadOnly).SetBool("IsSensitive", entry.IsSensitive)
                    .SetBool("IsDefault", entry.Source == ConfigSource.Default)
                    .SetInt("ConfigSource", (sbyte)entry.Source)
                    .SetInt("ConfigType", (sbyte)entry.Type)
                    .SetString("Documentation", null);
                if (synonyms)
                    config.AddElement("Synonyms").SetString("Name", entry.Name).SetString("Value", entry.Value).SetInt("Source", (sbyte)entry.Source);
            }
        }
        return ValueTask.FromResult(response);
    }
}
