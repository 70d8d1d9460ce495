using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Transactions;

/// <summary>
/// AddPartitionsToTxn (v0-3): adds partitions to the producer's transaction. Unknown partitions fail with
/// UNKNOWN_TOPIC_OR_PARTITION and the others with OPERATION_NOT_ATTEMPTED; otherwise every partition gets the
/// coordinator's one answer.
/// </summary>
public sealed class AddPartitionsToTxnHandler(BrokerServices services) : ApiHandler<AddPartitionsToTxnRequestData, AddPartitionsToTxnResponseData>
{
    public override ApiKey ApiKey => ApiKey.AddPartitionsToTxn;

    public override async ValueTask<AddPartitionsToTxnResponseData> HandleAsync(AddPartitionsToTxnRequestData request, RequestContext context,
        CancellationToken cancellationToken)
    {
        var requested = new List<(string Topic, int Partition)>();
        foreach (var topic in request.V3AndBelowTopics)
            foreach (int p in topic.Partitions)
                requested.Add((topic.Name, p));

        var errors = new Dictionary<(string, int), KafkaError>();
        var unknown = requested.Where(p => services.Metadata.GetPartition(p.Topic, p.Partition) is null).ToHashSet();
        if (unknown.Count > 0)
        {
            foreach (var p in requested) errors[p] = unknown.Contains(p) ? KafkaError.UnknownTopicOrPartition : KafkaError.OperationNotAttempted;
        }
        else
        {
            var coordinator = await services.Transactions!.GetAsync(cancellationToken);
            var error = await coordinator.AddPartitionsAsync(request.V3AndBelowTransactionalId,
                request.V3AndBelowProducerId, request.V3AndBelowProducerEpoch, requested, cancellationToken);
            error = TransactionErrors.ForVersion(error, context.Version, 2);
            foreach (var p in requested) errors[p] = error;
        }

        var response = new AddPartitionsToTxnResponseData();
        foreach (var topic in requested.GroupBy(p => p.Topic))
        {
            var result = new AddPartitionsToTxnResponseData.ResultsByTopicV3AndBelowItem { Name = topic.Key };
            response.ResultsByTopicV3AndBelow.Add(result);
            foreach (var p in topic.Distinct())
            {
                result.ResultsByPartition.Add(new AddPartitionsToTxnResponseData.ResultsByTopicV3AndBelowItem.ResultsByPartitionItem
                {
                    PartitionIndex = p.Partition, PartitionErrorCode = (short)errors[p],
                });
            }
        }
        return response;
    }
}
