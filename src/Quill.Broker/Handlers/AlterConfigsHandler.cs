using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>AlterConfigs: replaces a topic's whole set of overrides (keys left out return to their defaults).</summary>
public sealed class AlterConfigsHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.AlterConfigs;

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
            var configs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var c in resource.GetArray("Configs") ?? [])
                if (c.GetString("Value") is { } value) configs[c.GetString("Name") ?? ""] = value;
            await TopicConfigChange.ApplyAsync(services, result, name, configs, validateOnly, cancellationToken);
        }
        return response;
    }
}
