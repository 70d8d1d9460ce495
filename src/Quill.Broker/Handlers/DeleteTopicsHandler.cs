using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>DeleteTopics: by name (v0-5) or by name or topic id (v6); each deleted through the controller.</summary>
public sealed class DeleteTopicsHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.DeleteTopics;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        short version = context.Version;
        var response = context.NewResponse();
        var wanted = new List<(string? Name, Guid Id)>();
        if (version >= 6)
            foreach (var t in context.Body.GetArray("Topics") ?? []) wanted.Add((t.GetString("Name"), t.GetUuid("TopicId")));
        else
            foreach (var name in context.Body.GetStringArray("TopicNames") ?? []) wanted.Add((name, Guid.Empty));

        foreach (var (name, id) in wanted)
        {
            var result = response.AddElement("Responses");
            var topic = name is not null ? services.Metadata.GetTopic(name) : services.Metadata.GetTopic(id);
            result.SetString("Name", name ?? topic?.Name);
            if (version >= 6) result.SetUuid("TopicId", topic?.Id ?? id);
            if (topic is null)
            {
                result.SetInt("ErrorCode", (short)(name is null ? KafkaError.UnknownTopicId : KafkaError.UnknownTopicOrPartition));
                if (version >= 5) result.SetString("ErrorMessage", name is null ? "This server does not host this topic ID." : "This server does not host this topic-partition.");
                continue;
            }
            var outcome = await services.Controller.DeleteTopicAsync(topic.Name, cancellationToken);
            result.SetInt("ErrorCode", (short)outcome.Error);
            if (version >= 5) result.SetString("ErrorMessage", outcome.Message);
        }
        return response;
    }
}
