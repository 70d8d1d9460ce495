using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// ListPartitionReassignments (v0): the controller's view of the partitions being moved, each with its replicas
/// (target and origin together), the replicas being added and those to be removed. Partitions asked for that are not
/// being reassigned, known or not, are left out, as Kafka leaves them out; another broker answers NOT_CONTROLLER.
/// </summary>
public sealed class ListPartitionReassignmentsHandler(BrokerServices services)
    : ApiHandler<ListPartitionReassignmentsRequestData, ListPartitionReassignmentsResponseData>
{
    public override ApiKey ApiKey => ApiKey.ListPartitionReassignments;

    public override ValueTask<ListPartitionReassignmentsResponseData> HandleAsync(ListPartitionReassignmentsRequestData request, RequestContext context,
        CancellationToken cancellationToken)
    {
        var response = new ListPartitionReassignmentsResponseData();
        var result = services.Controller.ListReassignments(out var reassigning);
        if (!result.IsOk)
        {
            response.ErrorCode = (short)result.Error;
            response.ErrorMessage = result.Message;
            return ValueTask.FromResult(response);
        }
        var asked = request.Topics?.ToDictionary(t => t.Name, t => t.PartitionIndexes.ToHashSet(), StringComparer.Ordinal);
        foreach (var group in reassigning.GroupBy(r => r.Topic, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            HashSet<int>? wanted = null;
            if (asked is not null && !asked.TryGetValue(group.Key, out wanted)) continue;
            var topic = new ListPartitionReassignmentsResponseData.TopicsItem { Name = group.Key };
            foreach (var (_, p) in group.OrderBy(r => r.Partition.Index))
            {
                if (wanted is not null && !wanted.Contains(p.Index)) continue;
                topic.Partitions.Add(new ListPartitionReassignmentsResponseData.TopicsItem.PartitionsItem
                {
                    PartitionIndex = p.Index, Replicas = [.. p.Replicas], AddingReplicas = [.. p.AddingReplicas], RemovingReplicas = [.. p.RemovingReplicas],
                });
            }
            if (topic.Partitions.Count > 0) response.Topics.Add(topic);
        }
        return ValueTask.FromResult(response);
    }
}
