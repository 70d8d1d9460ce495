using Quill.Broker.Config;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// IncrementalAlterConfigs: set (0), delete (1), append to (2) and subtract from (3) list configs, of a topic, of this
/// broker, or (broker "") of every broker.
/// </summary>
public sealed class IncrementalAlterConfigsHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.IncrementalAlterConfigs;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        bool validateOnly = context.Body.GetBool("ValidateOnly");
        var response = context.NewResponse();
        foreach (var resource in context.Body.GetArray("Resources") ?? [])
        {
            sbyte type = resource.GetInt8("ResourceType");
            string name = resource.GetString("ResourceName") ?? "";
            var result = response.AddElement("Responses").SetInt("ResourceType", type).SetString("ResourceName", name);
            if (ConfigResourceChange.Current(services, result, type, name) is not { } configs) continue;
            string? problem = null;
            foreach (var c in resource.GetArray("Configs") ?? [])
            {
                problem = ApplyOperation(configs, type, c.GetString("Name") ?? "", c.GetInt8("ConfigOperation"), c.GetString("Value"));
                if (problem is not null) break;
            }
            if (problem is not null)
            {
                result.SetInt("ErrorCode", (short)KafkaError.InvalidConfig).SetString("ErrorMessage", problem);
                continue;
            }
            await ConfigResourceChange.ApplyAsync(services, result, type, name, configs, validateOnly, cancellationToken);
        }
        return response;
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
