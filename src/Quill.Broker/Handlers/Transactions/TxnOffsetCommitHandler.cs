using Quill.Broker.Groups;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Transactions;

/// <summary>TxnOffsetCommit: offsets that become the group's committed offsets when the producer's transaction commits.</summary>
public sealed class TxnOffsetCommitHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.TxnOffsetCommit;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        var groups = services.Groups ?? throw new InvalidOperationException("the group coordinator has not started");
        var entries = new List<OffsetCommitEntry>();
        foreach (var topic in body.GetArray("Topics") ?? [])
            foreach (var p in topic.GetArray("Partitions") ?? [])
                entries.Add(new OffsetCommitEntry(topic.GetString("Name") ?? "", p.GetInt32("PartitionIndex"), p.GetInt64("CommittedOffset"),
                    context.Version >= 2 ? p.GetInt32("CommittedLeaderEpoch") : -1, p.GetString("CommittedMetadata")));
        var errors = groups.CommitTransactionalOffsets(body.GetString("GroupId") ?? "", body.GetInt64("ProducerId"), body.GetInt16("ProducerEpoch"),
            context.Version >= 3 ? body.GetString("MemberId") ?? "" : "", context.Version >= 3 ? body.GetString("GroupInstanceId") : null,
            context.Version >= 3 ? body.GetInt32("GenerationId") : -1, entries,
            (topic, partition) => services.Metadata.GetPartition(topic, partition) is not null);

        var response = context.NewResponse();
        int i = 0;
        foreach (var topic in body.GetArray("Topics") ?? [])
        {
            var result = response.AddElement("Topics").SetString("Name", topic.GetString("Name"));
            foreach (var p in topic.GetArray("Partitions") ?? [])
            {
                var error = TransactionErrors.ForVersion(errors[i++], context.Version, 3);
                result.AddElement("Partitions").SetInt("PartitionIndex", p.GetInt32("PartitionIndex")).SetInt("ErrorCode", (short)error);
            }
        }
        return ValueTask.FromResult(response);
    }
}
