using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// ListPartitionReassignments (v0): no reassignment is ever in progress here (one that is accepted completes at once,
/// see <see cref="AlterPartitionReassignmentsHandler"/>), so the list is empty; partitions asked for that are not
/// being reassigned, known or not, are left out, as Kafka leaves them out.
/// </summary>
public sealed class ListPartitionReassignmentsHandler : ApiHandler<ListPartitionReassignmentsRequestData, ListPartitionReassignmentsResponseData>
{
    public override ApiKey ApiKey => ApiKey.ListPartitionReassignments;

    public override ValueTask<ListPartitionReassignmentsResponseData> HandleAsync(ListPartitionReassignmentsRequestData request, RequestContext context,
        CancellationToken cancellationToken) =>
        ValueTask.FromResult(new ListPartitionReassignmentsResponseData());
}
