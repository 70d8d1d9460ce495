using Quill.Broker.Metadata;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// AlterConfigs (the non-incremental API): the set given replaces the resource's whole set of stored configs, a
/// topic's overrides or a broker's dynamic configs (keys left out return to their defaults); entries with a null
/// value are ignored, as Kafka ignores them.
/// </summary>
public sealed class AlterConfigsHandler(BrokerServices services) : ApiHandler<AlterConfigsRequestData, AlterConfigsResponseData>
{
    public override ApiKey ApiKey => ApiKey.AlterConfigs;

    public override async ValueTask<AlterConfigsResponseData> HandleAsync(AlterConfigsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new AlterConfigsResponseData();
        foreach (var resource in request.Resources)
        {
            sbyte type = resource.ResourceType;
            string name = resource.ResourceName;
            var result = new AlterConfigsResponseData.ResponsesItem { ResourceType = type, ResourceName = name };
            response.Responses.Add(result);
            if (ConfigResourceChange.Current(services, type, name, out var refusal) is null)
            {
                SetOutcome(result, refusal);
                continue;
            }
            var configs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var c in resource.Configs)
                if (c.Value is { } value) configs[c.Name] = value;
            if (await ConfigResourceChange.ApplyAsync(services, type, name, configs, request.ValidateOnly, cancellationToken) is { } outcome)
                SetOutcome(result, outcome);
        }
        return response;
    }

    private static void SetOutcome(AlterConfigsResponseData.ResponsesItem result, AdminResult outcome)
    {
        result.ErrorCode = (short)outcome.Error;
        result.ErrorMessage = outcome.Message;
    }
}
