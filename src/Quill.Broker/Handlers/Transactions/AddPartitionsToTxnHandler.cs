using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Transactions;

/// <summary>
/// AddPartitionsToTxn (v0-3): adds partitions to the producer's transaction. Unknown partitions fail with
/// UNKNOWN_TOPIC_OR_PARTITION and the others with OPERATION_NOT_ATTEMPTED; otherwise every partition gets the
/// coordinator's one answer.
/// </summary>
public sealed class AddPartitionsToTxnHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.AddPartitionsToTxn;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        var requested = new List<(string Topic, int Partition)>();
        foreach (var topic in body.GetArray("V3AndBelowTopics") ?? [])
            foreach (int p in topic.GetInt32Array("Partitions") ?? [])
                requested.Add((topic.GetString("Name") ?? "", p));

        var errors = new Dictionary<(string, int), KafkaError>();
        var unknown = requested.Where(p => services.Metadata.GetPartition(p.Topic, p.Partition) is null).ToHashSet();
        if (unknown.Count > 0)
        {
            foreach (var p in requested) errors[p] = unknown.Contains(p) ? KafkaError.UnknownTopicOrPartition : KafkaError.OperationNotAttempted;
        }
        else
        {
            var coordinator = await services.Transactions!.GetAsync(cancellationToken);
            var error = await coordinator.AddPartitionsAsync(body.GetString("V3AndBelowTransactionalId") ?? "",
                body.GetInt64("V3AndBelowProducerId"), body.GetInt16("V3AndBelowProducerEpoch"), requested, cancellationToken);
            error = TransactionErrors.ForVersion(error, context.Version, 2);
            foreach (var p in requested) errors[p] = error;
        }

        var response = context.NewResponse();
        foreach (var topic in requested.GroupBy(p => p.Topic))
        {
            var result = response.AddElement("ResultsByTopicV3AndBelow").SetString("Name", topic.Key);
            foreach (var p in topic.Distinct())
                result.AddElement("ResultsByPartition").SetInt("PartitionIndex", p.Partition).SetInt("PartitionErrorCode", (short)errors[p]);
        }
        return response;
    }
}
