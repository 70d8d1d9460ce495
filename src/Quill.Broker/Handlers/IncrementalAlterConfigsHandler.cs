using Quill.Broker.Config;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>IncrementalAlterConfigs: set (0), delete (1), append to (2) and subtract from (3) list configs of a topic.</summary>
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
            if (TopicConfigChange.RefuseResource(services, result, type, name)) continue;
            var configs = new Dictionary<string, string>(services.Metadata.GetTopic(name)!.Configs, StringComparer.Ordinal);
            string? problem = null;
            foreach (var c in resource.GetArray("Configs") ?? [])
            {
                string key = c.GetString("Name") ?? "";
                string? value = c.GetString("Value");
                var def = TopicConfigs.Find(key);
                if (def is null) { problem = $"Unknown topic config name: {key}"; break; }
                switch (c.GetInt8("ConfigOperation"))
                {
                    case 0 when value is not null: configs[key] = value; break;
                    case 1: configs.Remove(key); break;
                    case 2 or 3 when def.Type != ConfigType.List:
                        problem = $"Config value append is not allowed for config key: {key}";
                        break;
                    case 2 when value is not null:
                        var current = Items(configs.GetValueOrDefault(key) ?? def.Default(services.Options));
                        foreach (var item in Items(value)) if (!current.Contains(item)) current.Add(item);
                        configs[key] = string.Join(',', current);
                        break;
                    case 3 when value is not null:
                        var remaining = Items(configs.GetValueOrDefault(key) ?? def.Default(services.Options));
                        remaining.RemoveAll(Items(value).Contains);
                        configs[key] = string.Join(',', remaining);
                        break;
                    default: problem = $"Invalid operation or null value for config key: {key}"; break;
                }
                if (problem is not null) break;
            }
            if (problem is not null)
            {
                result.SetInt("ErrorCode", (short)KafkaError.InvalidConfig).SetString("ErrorMessage", problem);
                continue;
            }
            await TopicConfigChange.ApplyAsync(services, result, name, configs, validateOnly, cancellationToken);
        }
        return response;
    }

    private static List<string> Items(string value) =>
        [.. value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
}
