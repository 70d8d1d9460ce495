using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// AlterConfigs (the non-incremental API): the set given replaces the resource's whole set of stored configs, a
/// topic's overrides or a broker's dynamic configs (keys left out return to their defaults); entries with a null
/// value are ignored, as Kafka ignores them.
/// </summary>
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
            if (ConfigResourceChange.Current(services, result, type, name) is null) continue; // the error is set
            var configs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var c in resource.GetArray("Configs") ?? [])
                if (c.GetString("Value") is { } value) configs[c.GetString("Name") ?? ""] = value;
            await ConfigResourceChange.ApplyAsync(services, result, type, name, configs, validateOnly, cancellationToken);
        }
        return response;
    }
}
