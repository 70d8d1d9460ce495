using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// AlterPartitionReassignments (v0): the controller's (another broker answers NOT_CONTROLLER, and clients send it to
/// the controller). Each partition is checked and started (or cancelled, with null replicas) by
/// <see cref="Metadata.Controller.ReassignPartitionAsync"/>; the answer comes once the move has begun, and
/// ListPartitionReassignments shows it until the added replicas are in sync and the old ones are gone.
/// </summary>
public sealed class AlterPartitionReassignmentsHandler(BrokerServices services)
    : ApiHandler<AlterPartitionReassignmentsRequestData, AlterPartitionReassignmentsResponseData>
{
    public override ApiKey ApiKey => ApiKey.AlterPartitionReassignments;

    public override async ValueTask<AlterPartitionReassignmentsResponseData> HandleAsync(AlterPartitionReassignmentsRequestData request,
        RequestContext context, CancellationToken cancellationToken)
    {
        var response = new AlterPartitionReassignmentsResponseData();
        if (!services.Controller.IsActive)
        {
            response.ErrorCode = (short)KafkaError.NotController;
            response.ErrorMessage = "This is not the correct controller for this cluster.";
            return response;
        }
        foreach (var topic in request.Topics)
        {
            var topicResult = new AlterPartitionReassignmentsResponseData.ResponsesItem { Name = topic.Name };
            response.Responses.Add(topicResult);
            foreach (var p in topic.Partitions)
            {
                var result = await services.Controller.ReassignPartitionAsync(topic.Name, p.PartitionIndex, p.Replicas?.ToArray(), cancellationToken);
                topicResult.Partitions.Add(new AlterPartitionReassignmentsResponseData.ResponsesItem.PartitionsItem
                {
                    PartitionIndex = p.PartitionIndex, ErrorCode = (short)result.Error, ErrorMessage = result.Message,
                });
            }
        }
        return response;
    }
}
