using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>CreatePartitions: grows topics to the requested count, with the given or a round-robin assignment.</summary>
public sealed class CreatePartitionsHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.CreatePartitions;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var request = context.Body;
        bool validateOnly = request.GetBool("ValidateOnly");
        var response = context.NewResponse();
        var topics = request.GetArray("Topics") ?? [];
        var duplicates = topics.GroupBy(t => t.GetString("Name")).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        foreach (var topic in topics)
        {
            string name = topic.GetString("Name") ?? "";
            var result = response.AddElement("Results").SetString("Name", name);
            if (duplicates.Contains(name))
            {
                result.SetInt("ErrorCode", (short)KafkaError.InvalidRequest).SetString("ErrorMessage", "Duplicate topic in request.");
                continue;
            }
            var assignments = topic.GetArray("Assignments")?.Select(a => a.GetInt32Array("BrokerIds") ?? []).ToList();
            var outcome = await services.Controller.CreatePartitionsAsync(name, topic.GetInt32("Count"), assignments, validateOnly, cancellationToken);
            result.SetInt("ErrorCode", (short)outcome.Error).SetString("ErrorMessage", outcome.Message);
        }
        return response;
    }
}
