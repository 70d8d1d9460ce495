using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Transactions;

/// <summary>AddOffsetsToTxn: adds the group's <c>__consumer_offsets</c> partition to the transaction, so its offsets commit with it.</summary>
public sealed class AddOffsetsToTxnHandler(BrokerServices services) : ApiHandler<AddOffsetsToTxnRequestData, AddOffsetsToTxnResponseData>
{
    public override ApiKey ApiKey => ApiKey.AddOffsetsToTxn;

    public override async ValueTask<AddOffsetsToTxnResponseData> HandleAsync(AddOffsetsToTxnRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var groups = services.Groups ?? throw new InvalidOperationException("the group coordinator has not started");
        int partition = groups.PartitionFor(request.GroupId);
        var coordinator = await services.Transactions!.GetAsync(cancellationToken);
        var error = await coordinator.AddPartitionsAsync(request.TransactionalId, request.ProducerId,
            request.ProducerEpoch, [(OffsetsTopic.Name, partition)], cancellationToken);
        return new AddOffsetsToTxnResponseData { ErrorCode = (short)TransactionErrors.ForVersion(error, context.Version, 2) };
    }
}
