using Quill.Broker.Groups;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Transactions;

/// <summary>AddOffsetsToTxn: adds the group's <c>__consumer_offsets</c> partition to the transaction, so its offsets commit with it.</summary>
public sealed class AddOffsetsToTxnHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.AddOffsetsToTxn;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        var groups = services.Groups ?? throw new InvalidOperationException("the group coordinator has not started");
        int partition = groups.PartitionFor(body.GetString("GroupId") ?? "");
        var coordinator = await services.Transactions!.GetAsync(cancellationToken);
        var error = await coordinator.AddPartitionsAsync(body.GetString("TransactionalId") ?? "", body.GetInt64("ProducerId"),
            body.GetInt16("ProducerEpoch"), [(OffsetsTopic.Name, partition)], cancellationToken);
        return context.NewResponse().SetInt("ErrorCode", (short)TransactionErrors.ForVersion(error, context.Version, 2));
    }
}
