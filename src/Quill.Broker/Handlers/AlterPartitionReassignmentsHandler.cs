using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// AlterPartitionReassignments (v0), checked per partition as Kafka's controller does: the replica list must be
/// non-empty, without duplicates or negative ids, and every broker it adds must be alive (INVALID_REPLICA_ASSIGNMENT);
/// an unknown partition is UNKNOWN_TOPIC_OR_PARTITION; cancelling (null replicas) finds no reassignment in progress
/// (NO_REASSIGNMENT_IN_PROGRESS); a reassignment to the current replicas completes at once. Moving a replica to
/// another broker needs replication, which this broker does not have yet: refused as INVALID_REPLICA_ASSIGNMENT.
/// </summary>
public sealed class AlterPartitionReassignmentsHandler(BrokerServices services)
    : ApiHandler<AlterPartitionReassignmentsRequestData, AlterPartitionReassignmentsResponseData>
{
    public override ApiKey ApiKey => ApiKey.AlterPartitionReassignments;

    public override ValueTask<AlterPartitionReassignmentsResponseData> HandleAsync(AlterPartitionReassignmentsRequestData request, RequestContext context,
        CancellationToken cancellationToken)
    {
        var response = new AlterPartitionReassignmentsResponseData();
        foreach (var topic in request.Topics)
        {
            var topicResult = new AlterPartitionReassignmentsResponseData.ResponsesItem { Name = topic.Name };
            response.Responses.Add(topicResult);
            foreach (var p in topic.Partitions)
            {
                var (error, message) = Reassign(topic.Name, p.PartitionIndex, p.Replicas?.ToArray());
                topicResult.Partitions.Add(new AlterPartitionReassignmentsResponseData.ResponsesItem.PartitionsItem
                {
                    PartitionIndex = p.PartitionIndex, ErrorCode = (short)error, ErrorMessage = message,
                });
            }
        }
        return ValueTask.FromResult(response);
    }

    private (KafkaError, string?) Reassign(string topic, int index, int[]? target)
    {
        var partition = services.Metadata.GetPartition(topic, index);
        if (target is null) return (KafkaError.NoReassignmentInProgress, "No partition reassignment is in progress.");

        if (target.Length == 0) return Invalid("the replica list is empty");
        if (target.Distinct().Count() != target.Length) return Invalid($"the replica list {Show(target)} has duplicates");
        if (target.Any(id => id < 0)) return Invalid($"the replica list {Show(target)} has a negative broker id");
        var current = partition?.Replicas ?? [];
        var live = services.LiveBrokers.Select(b => b.Id).ToHashSet();
        var adding = target.Except(current).ToArray();
        if (!adding.All(live.Contains))
            return Invalid($"brokers {Show(adding.Where(id => !live.Contains(id)))} of {Show(target)} are not alive (live brokers: {Show(live.Order())})");

        if (partition is null) return (KafkaError.UnknownTopicOrPartition, "The partition does not exist.");
        if (target.SequenceEqual(current)) return (KafkaError.None, null);
        return Invalid($"moving {topic}-{index} from {Show(current)} to {Show(target)} needs replication, which this broker does not do");
    }

    private static (KafkaError, string?) Invalid(string why) => (KafkaError.InvalidReplicaAssignment, $"Invalid replica assignment: {why}.");

    private static string Show(IEnumerable<int> ids) => "[" + string.Join(", ", ids) + "]";
}
