using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Transactions;

/// <summary>TxnOffsetCommit: offsets that become the group's committed offsets when the producer's transaction commits.</summary>
public sealed class TxnOffsetCommitHandler(BrokerServices services) : ApiHandler<TxnOffsetCommitRequestData, TxnOffsetCommitResponseData>
{
    public override ApiKey ApiKey => ApiKey.TxnOffsetCommit;

    public override async ValueTask<TxnOffsetCommitResponseData> HandleAsync(TxnOffsetCommitRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var groups = services.Groups ?? throw new InvalidOperationException("the group coordinator has not started");
        short version = context.Version;
        var entries = new List<OffsetCommitEntry>();
        foreach (var topic in request.Topics)
            foreach (var p in topic.Partitions)
                entries.Add(new OffsetCommitEntry(topic.Name, p.PartitionIndex, p.CommittedOffset,
                    version >= 2 ? p.CommittedLeaderEpoch : -1, p.CommittedMetadata));
        var errors = await groups.CommitTransactionalOffsetsAsync(request.GroupId, request.ProducerId, request.ProducerEpoch,
            version >= 3 ? request.MemberId : "", version >= 3 ? request.GroupInstanceId : null,
            version >= 3 ? request.GenerationId : -1, entries,
            (topic, partition) => services.Metadata.GetPartition(topic, partition) is not null);

        var response = new TxnOffsetCommitResponseData();
        int i = 0;
        foreach (var topic in request.Topics)
        {
            var result = new TxnOffsetCommitResponseData.TopicsItem { Name = topic.Name };
            response.Topics.Add(result);
            foreach (var p in topic.Partitions)
            {
                var error = TransactionErrors.ForVersion(errors[i++], version, 3);
                result.Partitions.Add(new TxnOffsetCommitResponseData.TopicsItem.PartitionsItem { PartitionIndex = p.PartitionIndex, ErrorCode = (short)error });
            }
        }
        return response;
    }
}
