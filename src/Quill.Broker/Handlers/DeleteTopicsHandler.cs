using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>DeleteTopics: by name (v0-5) or by name or topic id (v6); each deleted through the controller.</summary>
public sealed class DeleteTopicsHandler(BrokerServices services) : ApiHandler<DeleteTopicsRequestData, DeleteTopicsResponseData>
{
    public override ApiKey ApiKey => ApiKey.DeleteTopics;

    public override async ValueTask<DeleteTopicsResponseData> HandleAsync(DeleteTopicsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        short version = context.Version;
        var response = new DeleteTopicsResponseData();
        var wanted = new List<(string? Name, Guid Id)>();
        if (version >= 6)
            foreach (var t in request.Topics) wanted.Add((t.Name, t.TopicId));
        else
            foreach (var name in request.TopicNames) wanted.Add((name, Guid.Empty));

        foreach (var (name, id) in wanted)
        {
            var topic = name is not null ? services.Metadata.GetTopic(name) : services.Metadata.GetTopic(id);
            var result = new DeleteTopicsResponseData.ResponsesItem { Name = name ?? topic?.Name };
            response.Responses.Add(result);
            if (version >= 6) result.TopicId = topic?.Id ?? id;
            if (topic is null)
            {
                result.ErrorCode = (short)(name is null ? KafkaError.UnknownTopicId : KafkaError.UnknownTopicOrPartition);
                if (version >= 5) result.ErrorMessage = name is null ? "This server does not host this topic ID." : "This server does not host this topic-partition.";
                continue;
            }
            var outcome = await services.Controller.DeleteTopicAsync(topic.Name, cancellationToken);
            result.ErrorCode = (short)outcome.Error;
            if (version >= 5) result.ErrorMessage = outcome.Message;
        }
        return response;
    }
}
