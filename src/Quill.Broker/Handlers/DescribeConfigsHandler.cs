using System.Globalization;
using Quill.Broker.Config;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

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
public sealed class DescribeConfigsHandler(BrokerServices services) : ApiHandler<DescribeConfigsRequestData, DescribeConfigsResponseData>
{
    public override ApiKey ApiKey => ApiKey.DescribeConfigs;

    public override ValueTask<DescribeConfigsResponseData> HandleAsync(DescribeConfigsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        bool synonyms = context.Version >= 1 && request.IncludeSynonyms;
        var response = new DescribeConfigsResponseData();
        foreach (var resource in request.Resources)
        {
            sbyte type = resource.ResourceType;
            string name = resource.ResourceName;
            var keys = resource.ConfigurationKeys?.ToHashSet(StringComparer.Ordinal);
            var result = new DescribeConfigsResponseData.ResultsItem { ResourceType = type, ResourceName = name };
            response.Results.Add(result);
            IEnumerable<ConfigEntry> entries;
            switch (type)
            {
                case ResourceTypes.Topic when services.Metadata.GetTopic(name) is { } topic:
                    entries = ConfigDescriber.TopicEntries(services.Options, services.DynamicConfig, topic.Configs);
                    break;
                case ResourceTypes.Topic:
                    Refuse(result, Metadata.TopicNames.IsValid(name) ? KafkaError.UnknownTopicOrPartition : KafkaError.InvalidTopicException,
                        $"Topic '{name}' does not exist.");
                    continue;
                case ResourceTypes.Broker when name == "":
                    entries = ConfigDescriber.ClusterDefaultEntries(services.DynamicConfig);
                    break;
                case ResourceTypes.Broker when name == services.BrokerId.ToString(CultureInfo.InvariantCulture):
                    entries = ConfigDescriber.BrokerEntries(services.Options, services.DynamicConfig, services.Self.Port);
                    break;
                case ResourceTypes.Broker:
                    Refuse(result, KafkaError.InvalidRequest, $"Unexpected broker id, expected {services.BrokerId} but received {name}");
                    continue;
                default:
                    Refuse(result, KafkaError.InvalidRequest, $"Unsupported resource type {type}");
                    continue;
            }
            foreach (var entry in entries)
            {
                if (keys is not null && !keys.Contains(entry.Name)) continue;
                var config = new DescribeConfigsResponseData.ResultsItem.ConfigsItem
                {
                    Name = entry.Name,
                    Value = entry.Value,
                    ReadOnly = entry.ReadOnly,
                    IsSensitive = entry.IsSensitive,
                    IsDefault = entry.Source == ConfigSource.Default,
                    ConfigSource = (sbyte)entry.Source,
                    ConfigType = (sbyte)entry.Type,
                    Documentation = null,
                };
                if (synonyms)
                {
                    config.Synonyms.Add(new DescribeConfigsResponseData.ResultsItem.ConfigsItem.SynonymsItem
                    {
                        Name = entry.Name, Value = entry.Value, Source = (sbyte)entry.Source,
                    });
                }
                result.Configs.Add(config);
            }
        }
        return ValueTask.FromResult(response);
    }

    private static void Refuse(DescribeConfigsResponseData.ResultsItem result, KafkaError error, string message)
    {
        result.ErrorCode = (short)error;
        result.ErrorMessage = message;
    }
}
