using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>CreatePartitions: grows topics to the requested count, with the given or a round-robin assignment.</summary>
public sealed class CreatePartitionsHandler(BrokerServices services) : ApiHandler<CreatePartitionsRequestData, CreatePartitionsResponseData>
{
    public override ApiKey ApiKey => ApiKey.CreatePartitions;

    public override async ValueTask<CreatePartitionsResponseData> HandleAsync(CreatePartitionsRequestData request, RequestContext context,
        CancellationToken cancellationToken)
    {
        var response = new CreatePartitionsResponseData();
        var duplicates = request.Topics.GroupBy(t => t.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        foreach (var topic in request.Topics)
        {
            string name = topic.Name;
            var result = new CreatePartitionsResponseData.ResultsItem { Name = name };
            response.Results.Add(result);
            if (duplicates.Contains(name))
            {
                result.ErrorCode = (short)KafkaError.InvalidRequest;
                result.ErrorMessage = "Duplicate topic in request.";
                continue;
            }
            var assignments = topic.Assignments?.Select(a => a.BrokerIds.ToArray()).ToList();
            var outcome = await services.Controller.CreatePartitionsAsync(name, topic.Count, assignments, request.ValidateOnly, cancellationToken);
            result.ErrorCode = (short)outcome.Error;
            result.ErrorMessage = outcome.Message;
        }
        return response;
    }
}
