using Quill.Broker.Config;
using Quill.Broker.Metadata;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// IncrementalAlterConfigs: set (0), delete (1), append to (2) and subtract from (3) list configs, of a topic, of this
/// broker, or (broker "") of every broker.
/// </summary>
public sealed class IncrementalAlterConfigsHandler(BrokerServices services) : ApiHandler<IncrementalAlterConfigsRequestData, IncrementalAlterConfigsResponseData>
{
    public override ApiKey ApiKey => ApiKey.IncrementalAlterConfigs;

    public override async ValueTask<IncrementalAlterConfigsResponseData> HandleAsync(IncrementalAlterConfigsRequestData request, RequestContext context,
        CancellationToken cancellationToken)
    {
        var response = new IncrementalAlterConfigsResponseData();
        foreach (var resource in request.Resources)
        {
            sbyte type = resource.ResourceType;
            string name = resource.ResourceName;
            var result = new IncrementalAlterConfigsResponseData.ResponsesItem { ResourceType = type, ResourceName = name };
            response.Responses.Add(result);
            if (ConfigResourceChange.Current(services, type, name, out var refusal) is not { } configs)
            {
                SetOutcome(result, refusal);
                continue;
            }
            string? problem = null;
            foreach (var c in resource.Configs)
            {
                problem = ApplyOperation(configs, type, c.Name, c.ConfigOperation, c.Value);
                if (problem is not null) break;
            }
            if (problem is not null)
            {
                SetOutcome(result, new AdminResult(KafkaError.InvalidConfig, problem));
                continue;
            }
            if (await ConfigResourceChange.ApplyAsync(services, type, name, configs, request.ValidateOnly, cancellationToken) is { } outcome)
                SetOutcome(result, outcome);
        }
        return response;
    }

    private static void SetOutcome(IncrementalAlterConfigsResponseData.ResponsesItem result, AdminResult outcome)
    {
        result.ErrorCode = (short)outcome.Error;
        result.ErrorMessage = outcome.Message;
    }

    /// <summary>Applies one operation to the stored set; the reason it cannot be applied, or null.</summary>
    private string? ApplyOperation(Dictionary<string, string> configs, sbyte type, string key, sbyte operation, string? value)
    {
        if (operation == 1)
        {
            // Deleting a key that is not set is fine; an unknown key is not.
            if (ConfigResourceChange.Validate(type, key, "0") is { } unknown && unknown.StartsWith("Unknown", StringComparison.Ordinal)) return unknown;
            configs.Remove(key);
            return null;
        }
        if (value is null) return $"Invalid operation or null value for config key: {key}";
        switch (operation)
        {
            case 0:
                configs[key] = value;
                return null;
            case 2 or 3:
                if (ListDefault(type, key) is not { } listDefault) return $"Config value append is not allowed for config key: {key}";
                var items = Items(configs.GetValueOrDefault(key) ?? listDefault);
                if (operation == 2)
                {
                    foreach (var item in Items(value)) if (!items.Contains(item)) items.Add(item);
                }
                else
                {
                    items.RemoveAll(Items(value).Contains);
                }
                configs[key] = string.Join(',', items);
                return null;
            default:
                return $"Invalid operation {operation} for config key: {key}";
        }
    }

    /// <summary>The current effective value of a list-typed config (the starting point for append/subtract); null if not a list.</summary>
    private string? ListDefault(sbyte type, string key)
    {
        var def = type == ResourceTypes.Topic ? TopicConfigs.Find(key) : TopicConfigs.All.FirstOrDefault(d => d.BrokerKey == key);
        return def is { Type: ConfigType.List } ? def.Default(services.Options) : null;
    }

    private static List<string> Items(string value) =>
        [.. value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
}
